"""Register this helpdesk's webhook with the Telegram bot, with the secret token Telegram then
sends in every update (X-Telegram-Bot-Api-Secret-Token)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from tickets.channels import ChannelError, get_adapter


class Command(BaseCommand):
    help = "Point the Telegram bot at /channels/telegram/webhook/ with TELEGRAM_SECRET_TOKEN."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="Public webhook URL (default: HELPDESK_PUBLIC_URL + the webhook path).")
        parser.add_argument("--channel", default="telegram", help="HELPDESK_CHANNELS key of the bot (default: telegram).")
        parser.add_argument("--drop-pending-updates", action="store_true", help="Discard updates Telegram queued meanwhile.")

    def handle(self, *args, url, channel, drop_pending_updates, **options):
        url = url or settings.HELPDESK_PUBLIC_URL + reverse("channels_social:telegram-webhook")
        if not url.startswith("https://"):
            raise CommandError(f"Telegram only calls HTTPS webhooks, not {url}: set HELPDESK_PUBLIC_URL or pass --url.")
        try:
            adapter = get_adapter(channel)
            adapter.set_webhook(url, drop_pending_updates=drop_pending_updates)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        except ChannelError as exc:
            raise CommandError(f"Telegram refused: {exc.reason}") from exc
        self.stdout.write(self.style.SUCCESS(f"Telegram webhook set to {url}"))
