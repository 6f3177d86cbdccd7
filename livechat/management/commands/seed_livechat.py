"""Create the demo chat inbox (key "demo") used by /chat/demo/. Idempotent."""

from django.conf import settings
from django.core.management.base import BaseCommand

from livechat.models import Inbox


class Command(BaseCommand):
    help = "Create the demo live-chat inbox (key 'demo') if it does not exist."

    def handle(self, *args, **options):
        inbox, created = Inbox.objects.get_or_create(
            key="demo",
            defaults={"name": "Demo website", "allowed_origins": settings.HELPDESK_PUBLIC_URL,
                      "prechat_enabled": True},
        )
        if created:
            self.stdout.write(f"Chat inbox 'demo' created; demo page: {settings.HELPDESK_PUBLIC_URL}/chat/demo/")
