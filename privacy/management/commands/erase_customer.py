"""Erase a customer across every channel (audited). Asks for confirmation unless --yes."""

from django.core.management.base import BaseCommand, CommandError

from privacy import actions
from privacy.management.commands._customer import add_customer_argument, find_customer
from privacy.models import PrivacyRequest


class Command(BaseCommand):
    help = ("Erase a customer: messages redacted, attachments and raw payloads deleted, identities removed, "
            "event log cleared, outgoing webhooks told. Tickets stay, anonymised. Cannot be undone.")

    def add_arguments(self, parser):
        add_customer_argument(parser)
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, customer, channel, yes, **options):
        found = find_customer(customer, channel)
        if not yes:
            answer = input(f"Erase customer {found.pk} ({found.identities.count()} identities, "
                           f"{found.tickets.count()} tickets)? This cannot be undone. Type the number to confirm: ")
            if answer.strip() != str(found.pk):
                raise CommandError("Not confirmed; nothing erased.")
        try:
            record = actions.erase(found, actor=None, via=PrivacyRequest.Via.COMMAND)
        except actions.Refused as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{k} {v}" for k, v in record.summary.items() if k != "providers")
        self.stdout.write(f"Customer {found.pk} erased (audit record {record.pk}): {counts}.")
