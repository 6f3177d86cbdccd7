"""Forget I-Twilio-Idempotency-Tokens older than TWILIO_RECEIPT_RETENTION_DAYS (Twilio stops
resending long before). The daily retention task (privacy) runs it, beside prune_events."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from channels_sms.models import WebhookReceipt
from tickets.management.commands._bulk import Progress
from tickets.services.retention import delete_in_batches


class Command(BaseCommand):
    help = "Delete old Twilio webhook idempotency receipts."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.TWILIO_RECEIPT_RETENTION_DAYS)

    def handle(self, *args, days, **options):
        cutoff = timezone.now() - timedelta(days=days)
        progress = Progress(self.stdout, "receipts", 0)
        deleted = delete_in_batches(WebhookReceipt.objects.filter(created_at__lt=cutoff), progress)
        progress.close()
        self.stdout.write(f"deleted {deleted} Twilio webhook receipts older than {days} days")
