from django.core.management.base import BaseCommand

from api.idempotency import prune
from tickets.management.commands._bulk import Progress


class Command(BaseCommand):
    help = "Forget Idempotency-Key responses older than HELPDESK_API_IDEMPOTENCY_HOURS (or --hours)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=None)

    def handle(self, *args, hours=None, **options):
        progress = Progress(self.stdout, "keys", 0)
        deleted = prune(hours, progress)
        progress.close()
        self.stdout.write(f"Deleted {deleted} idempotency keys.")
