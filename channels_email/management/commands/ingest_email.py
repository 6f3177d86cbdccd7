"""Postfix/Exim pipe delivery:  support: "|/srv/helpdesk/.venv/bin/python /srv/helpdesk/manage.py ingest_email"

Reads one RFC 5322 message from FILE or stdin and prints the ticket reference. Exit codes follow
sysexits(3), which MTAs understand: 0 stored (or quarantined, or kept for replay), 65 EX_DATAERR
only for input that is not mail at all (the MTA bounces it), and 75 EX_TEMPFAIL for anything that
may get better (the MTA queues the mail and retries): any database or storage error at any
point, start-up included (an unopenable SQLite file, a read-only or full disk, an unreachable
PostgreSQL). manage.py answers 75 too when the settings themselves cannot load.
"""

import sys

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from channels_email.pipe import NotMail, ingest_raw
from tickets.channels import PayloadError
from tickets.services import IngestResult

EX_OK, EX_DATAERR, EX_TEMPFAIL = 0, 65, 75


class Command(BaseCommand):
    help = "Ingest one email (RFC 5322) from FILE or stdin, as an MTA pipe transport."
    # The system checks read the database before handle(): an unopenable SQLite file failed
    # there with a traceback (exit 1, the MTA bounced the mail). An MTA pipe skips them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-", help="Path to the message, or - for stdin.")

    def run_from_argv(self, argv):
        try:
            super().run_from_argv(argv)
        except (DatabaseError, OSError) as exc:  # also raised while closing connections at the end
            self.stderr.write(f"database or storage unavailable, try again later: {type(exc).__name__}: {exc}")
            sys.exit(EX_TEMPFAIL)

    def handle(self, *args, file, **options):
        try:
            data = sys.stdin.buffer.read() if file == "-" else open(file, "rb").read()  # noqa: SIM115
        except OSError as exc:
            self.stderr.write(f"cannot read the message, try again later: {exc}")
            sys.exit(EX_TEMPFAIL)
        try:
            payload, items = ingest_raw(data)
        except NotMail as exc:
            self.stderr.write(f"not an email: {exc}")
            sys.exit(EX_DATAERR)
        except PayloadError as exc:
            self.stdout.write(f"kept for replay: {exc.reason}")
            return
        except (DatabaseError, OSError) as exc:
            # Locked, unopenable, read-only, full, unreachable: the MTA keeps the mail and retries.
            self.stderr.write(f"database or storage unavailable, try again later: {type(exc).__name__}: {exc}")
            sys.exit(EX_TEMPFAIL)
        except Exception as exc:  # noqa: BLE001 - the payload is stored with its error: replayable
            self.stderr.write(f"stored for replay after an error: {type(exc).__name__}: {exc}")
            return
        self.stdout.write(describe(payload, items))


def describe(payload, items) -> str:
    tickets = [f"#{item.message.ticket_id}" for item in items if isinstance(item, IngestResult)]
    if tickets:
        return " ".join(tickets)
    if payload.state == payload.State.QUARANTINED:
        return f"quarantined (payload {payload.pk}): {payload.error}"
    return f"delivery report (payload {payload.pk})" if items else f"nothing to do (payload {payload.pk})"
