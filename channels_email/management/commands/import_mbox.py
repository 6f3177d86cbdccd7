"""Bring an existing mailbox archive (mbox) into the history, through the same parser, threading
and quarantine as live mail, without acknowledging anyone. Idempotent: messages already stored
(same Message-ID) and archives imported before are skipped; mail we sent ourselves is skipped."""

import hashlib
import mailbox
import sys
from email.parser import BytesHeaderParser
from email.policy import default

from django.core.management.base import BaseCommand, CommandError

from channels_email import conf, mime
from channels_email.pipe import IMPORT_ADAPTER, NotMail, ingest_raw
from tickets.models import InboundPayload, Message
from tickets.services import IngestResult


class Command(BaseCommand):
    help = "Import an mbox archive into the ticket history (idempotent, with a progress bar)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the mbox file.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, file, no_progress, **options):
        try:
            box = mailbox.mbox(file, create=False)
            keys = box.keys()
        except (OSError, mailbox.Error) as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        counts = {"imported": 0, "already": 0, "ours": 0, "quarantined": 0, "reports": 0, "not mail": 0,
                  "failed": 0}
        for done, key in enumerate(keys, 1):
            counts[self._one(box.get_bytes(key))] += 1
            if not no_progress:
                self._progress(done, len(keys))
        if not no_progress:
            sys.stderr.write("\n")
        self.stdout.write(", ".join(f"{n} {label}" for label, n in counts.items()))

    def _one(self, data: bytes) -> str:
        source = "mbox-" + hashlib.sha256(data).hexdigest()
        if InboundPayload.objects.filter(path=f"{source}:ingest_email").exists():
            return "already"
        headers = BytesHeaderParser(policy=default).parsebytes(data)
        ids = mime.message_ids(mime.header(headers, "Message-ID"))
        senders = mime.addresses(headers, "From")
        if ids and senders and Message.objects.filter(  # the same mail: same Message-ID *and* sender
                channel="email", external_id=ids[0], direction=Message.Direction.INBOUND,
                identity__address=senders[0][1]).exists():
            return "already"
        if senders and senders[0][1] in conf.own_addresses():
            return "ours"
        try:
            payload, items = ingest_raw(data, adapter_key=IMPORT_ADAPTER, source=source)
        except NotMail:
            return "not mail"
        except Exception as exc:  # noqa: BLE001 - kept as a failed payload for replay; go on
            self.stderr.write(f"\n{type(exc).__name__}: {exc}")
            return "failed"
        if any(isinstance(i, IngestResult) for i in items):
            return "imported"
        return "quarantined" if payload.state == InboundPayload.State.QUARANTINED else "reports"

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()
