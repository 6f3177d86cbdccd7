"""Print a new Fernet key for HELPDESK_ENCRYPTION_KEY (mailbox passwords and OAuth tokens)."""

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a new key for HELPDESK_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        self.stdout.write(Fernet.generate_key().decode())
