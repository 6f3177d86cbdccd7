"""Postfix/Exim pipe delivery:  support: "|/srv/helpdesk/.venv/bin/python /srv/helpdesk/manage.py ingest_email"

Reads one RFC 5322 message from FILE or stdin and prints the ticket reference. Exit codes follow
sysexits(3), which MTAs understand: 0 stored (or quarantined, or kept for replay), 75 EX_TEMPFAIL
when the database is unavailable (the MTA queues and retries), 65 EX_DATAERR only for input that
is not mail at all (the MTA bounces it).
"""

import sys

from django.core.management.base import BaseCommand
from django.db import DatabaseError, InterfaceError, OperationalError

from channels_email.pipe import NotMail, ingest_raw
from tickets.channels import PayloadError
from tickets.services import IngestResult

EX_OK, EX_DATAERR, EX_TEMPFAIL = 0, 65, 75


class Command(BaseCommand):
    help = "Ingest one email (RFC 5322) from FILE or stdin, as an MTA pipe transport."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-", help="Path to the message, or - for stdin.")

    def handle(self, *args, file, **options):
        data = sys.stdin.buffer.read() if file == "-" else open(file, "rb").read()  # noqa: SIM115
        try:
            payload, items = ingest_raw(data)
        except NotMail as exc:
            self.stderr.write(f"not an email: {exc}")
            sys.exit(EX_DATAERR)
        except (OperationalError, InterfaceError) as exc:
            self.stderr.write(f"database unavailable, try again later: {exc}")
            sys.exit(EX_TEMPFAIL)
        except PayloadError as exc:
            self.stdout.write(f"kept for replay: {exc.reason}")
            return
        except DatabaseError as exc:
            self.stderr.write(f"database error, try again later: {exc}")
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
