"""Re-encrypt every stored mailbox secret with the first key of HELPDESK_ENCRYPTION_KEY (after
prepending a new key; drop the old one once this has run)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from mailboxes import crypto
from mailboxes.models import Mailbox

FIELDS = ("password_encrypted", "smtp_password_encrypted", "oauth_refresh_encrypted", "oauth_access_encrypted")


class Command(BaseCommand):
    help = "Re-encrypt mailbox secrets with the newest HELPDESK_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for mailbox in Mailbox.objects.select_for_update():
                Mailbox.objects.filter(pk=mailbox.pk).update(
                    **{field: crypto.rotate(getattr(mailbox, field)) for field in FIELDS})
                count += 1
        self.stdout.write(f"{count} mailbox(es) re-encrypted")
