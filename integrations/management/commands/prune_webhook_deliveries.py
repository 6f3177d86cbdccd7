"""Delete finished outgoing-webhook deliveries (delivered, or given up) older than
HELPDESK_EVENT_RETENTION_DAYS. Pending ones are never deleted: they still have attempts to make."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from integrations.models import WebhookDelivery
from tickets.management.commands._bulk import Progress
from tickets.services.retention import delete_in_batches


class Command(BaseCommand):
    help = "Delete old delivered or failed outgoing webhook deliveries."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.HELPDESK_EVENT_RETENTION_DAYS)

    def handle(self, *args, days, **options):
        finished = [WebhookDelivery.State.SUCCEEDED, WebhookDelivery.State.FAILED]
        old = WebhookDelivery.objects.filter(state__in=finished, created_at__lt=timezone.now() - timedelta(days=days))
        progress = Progress(self.stdout, "deliveries", 0)
        deleted = delete_in_batches(old, progress)
        progress.close()
        self.stdout.write(f"{deleted} webhook deliveries deleted")
