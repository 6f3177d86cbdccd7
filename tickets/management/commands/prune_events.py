"""Delete events older than HELPDESK_EVENT_RETENTION_DAYS. Clients further behind than the
oldest remaining event are told to reload instead of being replayed."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from tickets.management.commands._bulk import Progress
from tickets.models import Event
from tickets.services.retention import delete_in_batches


class Command(BaseCommand):
    help = "Delete old events from the event log."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.HELPDESK_EVENT_RETENTION_DAYS)

    def handle(self, *args, days, **options):
        old = Event.objects.filter(created_at__lt=timezone.now() - timedelta(days=days))
        progress = Progress(self.stdout, "events", 0)
        deleted = delete_in_batches(old, progress)
        progress.close()
        self.stdout.write(f"{deleted} events deleted")
