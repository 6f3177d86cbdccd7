from django.conf import settings
from django.core.management.base import BaseCommand

from notifications.services import prune


class Command(BaseCommand):
    help = "Delete read notifications older than N days (default HELPDESK_NOTIFICATION_RETENTION_DAYS); unread ones stay."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.HELPDESK_NOTIFICATION_RETENTION_DAYS)

    def handle(self, *args, days, **options):
        deleted = prune(days)
        self.stdout.write(f"{deleted} read notification(s) older than {days} days deleted")
