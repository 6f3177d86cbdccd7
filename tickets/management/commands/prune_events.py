"""Delete events older than HELPDESK_EVENT_RETENTION_DAYS. Clients further behind than the
oldest remaining event are told to reload instead of being replayed."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from tickets.models import Event


class Command(BaseCommand):
    help = "Delete old events from the event log."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.HELPDESK_EVENT_RETENTION_DAYS)

    def handle(self, *args, days, **options):
        deleted, _ = Event.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()
        self.stdout.write(f"{deleted} events deleted")
