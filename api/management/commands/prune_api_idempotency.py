from django.core.management.base import BaseCommand

from api.idempotency import prune


class Command(BaseCommand):
    help = "Forget Idempotency-Key responses older than HELPDESK_API_IDEMPOTENCY_HOURS (or --hours)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=None)

    def handle(self, *args, hours=None, **options):
        self.stdout.write(f"Deleted {prune(hours)} idempotency keys.")
