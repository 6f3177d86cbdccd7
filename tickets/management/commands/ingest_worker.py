"""Write the webhooks that HELPDESK_WEBHOOK_INGEST=worker answered and queued (tickets/ingest_worker.py).

Run as many as you like, beside `serve --no-worker` (PostgreSQL claims each payload for one
worker); with REDIS_URL set, so that the consoles hear each change at once."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tickets.ingest_worker import IngestWorker, enabled


class Command(BaseCommand):
    help = "Write queued webhook payloads (HELPDESK_WEBHOOK_INGEST=worker) in batches until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=None,
                            help="payloads per transaction (default HELPDESK_INGEST_BATCH)")
        parser.add_argument("--poll-ms", type=int, default=None,
                            help="pause when nothing is queued (default HELPDESK_INGEST_POLL_MS)")
        parser.add_argument("--once", action="store_true", help="write what is queued now, then stop")

    def handle(self, *args, batch, poll_ms, once, **options):
        if batch is not None and batch < 1:
            raise CommandError("--batch must be at least 1.")
        if poll_ms is not None and poll_ms < 0:
            raise CommandError("--poll-ms must not be negative.")
        worker = IngestWorker(batch=batch, poll_ms=poll_ms)
        if once:
            self.stdout.write(f"{worker.drain()} queued payload(s) written")
            return
        if not enabled():
            # Still useful: it writes what an earlier `worker` setting left queued.
            self.stdout.write(self.style.WARNING(
                "HELPDESK_WEBHOOK_INGEST is not 'worker': webhooks are written as they arrive, so nothing new "
                "will be queued; this writes what is queued already."))
        if not settings.REDIS_URL:
            self.stdout.write(self.style.WARNING(
                "No REDIS_URL: consoles hear what this process writes at the watchman's next read of the event "
                f"log (HELPDESK_EVENT_POLL_SECONDS={settings.HELPDESK_EVENT_POLL_SECONDS:g}), not at once."))
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: worker.stop())
        self.stdout.write(f"Ingest worker writing queued webhooks, {worker.batch} per transaction")
        worker.run()
        self.stdout.write(f"Ingest worker stopped: {worker.written} payload(s) written")
