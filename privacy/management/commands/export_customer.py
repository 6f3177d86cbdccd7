"""Write a customer's data (every channel) to a zip of JSON plus their attachment files."""

import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from privacy import actions
from privacy.export import export_filename
from privacy.management.commands._customer import add_customer_argument, find_customer
from privacy.models import PrivacyRequest


class Command(BaseCommand):
    help = "Export a customer's data across every channel as a zip (JSON + attachment files)."

    def add_arguments(self, parser):
        add_customer_argument(parser)
        parser.add_argument("-o", "--output", help="Zip file to write (default: customer-<id>-<time>.zip here).")

    def handle(self, *args, customer, channel, output, **options):
        found = find_customer(customer, channel)
        path = Path(output or export_filename(found))
        if path.exists():
            raise CommandError(f"{path} exists; choose another --output.")
        try:
            archive = actions.export(found, actor=None, via=PrivacyRequest.Via.COMMAND)
        except actions.Refused as exc:
            raise CommandError(str(exc)) from exc
        with archive, path.open("wb") as target:
            shutil.copyfileobj(archive, target)
        self.stdout.write(f"Customer {found.pk} exported to {path} ({path.stat().st_size:,} bytes).")
