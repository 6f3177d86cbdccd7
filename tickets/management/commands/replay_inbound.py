"""Process stored webhook payloads again (after a fix, or after the database came back).
Ingest is idempotent, so replaying a payload that half-succeeded stores nothing twice."""

from django.core.management.base import BaseCommand, CommandError

from tickets import ingest_spool, services
from tickets.models import InboundPayload


class Command(BaseCommand):
    help = "Replay stored inbound payloads (default: the failed and unprocessed ones)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="Payload ids (default: all failed, received or queued).")
        parser.add_argument("--adapter", help="Only payloads of this HELPDESK_CHANNELS key.")
        parser.add_argument("--let-through", action="store_true",
                            help="Process the given quarantined payloads without the soft checks that "
                                 "quarantined them (flood limit, loop rules, size). Needs ids.")

    def handle(self, *args, ids, adapter, let_through, **options):
        if let_through and not ids:
            raise CommandError("--let-through needs the ids of the payloads you have checked.")
        if ingest_spool.enabled():
            ingest_spool.move_all()  # answered webhooks still in the spool are queued payloads too
        payloads = InboundPayload.objects.order_by("pk")
        if ids:
            payloads = payloads.filter(pk__in=ids)
        else:
            payloads = payloads.filter(state__in=[InboundPayload.State.FAILED, InboundPayload.State.RECEIVED,
                                                  InboundPayload.State.QUEUED])
        if adapter:
            payloads = payloads.filter(adapter=adapter)
        ok = failed = 0
        for payload in payloads.iterator():
            try:
                services.process_request(payload, release=let_through)
                ok += 1
            except Exception as exc:  # noqa: BLE001 - reported; the payload keeps its error
                failed += 1
                self.stderr.write(f"payload {payload.pk}: {exc}")
        self.stdout.write(f"{ok} replayed, {failed} failed")
