"""Delete raw inbound payloads (provider requests kept verbatim) past their retention:
processed/discarded ones after HELPDESK_PAYLOAD_RETENTION_DAYS, failed/quarantined ones (an admin
may still replay them) after HELPDESK_PAYLOAD_UNSETTLED_RETENTION_DAYS."""

from django.conf import settings
from django.core.management.base import BaseCommand

from tickets.management.commands._bulk import Progress
from tickets.services.retention import prune_inbound_payloads


class Command(BaseCommand):
    help = "Delete old raw inbound webhook/mail payloads."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.HELPDESK_PAYLOAD_RETENTION_DAYS,
                            help="Processed and discarded payloads older than this go.")
        parser.add_argument("--unsettled-days", type=int, default=settings.HELPDESK_PAYLOAD_UNSETTLED_RETENTION_DAYS,
                            help="Failed and quarantined payloads older than this go.")

    def handle(self, *args, days, unsettled_days, **options):
        progress = Progress(self.stdout, "payloads", 0)
        deleted = prune_inbound_payloads(days, unsettled_days, progress=progress)
        progress.close()
        self.stdout.write(f"{deleted} inbound payloads deleted")
