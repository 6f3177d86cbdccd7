"""The MTA pipe: one RFC 5322 message as bytes -> stored payload -> ingest, like a webhook.

The raw bytes are kept as an InboundPayload (adapter "email_pipe") before anything is parsed,
so a crash loses nothing and quarantined mail is replayed or discarded from the same admin
screen as ESP webhooks."""

from __future__ import annotations

import re

from tickets import services
from tickets.channels import RawRequest

PIPE_ADAPTER = "email_pipe"
IMPORT_ADAPTER = "email_import"  # the same parser; no acknowledgements for history
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?", re.M)  # RFC 5322 field name, then ":"


class NotMail(ValueError):
    """The input is not an email at all (EX_DATAERR for the MTA)."""


def looks_like_mail(data: bytes) -> bool:
    head = data[:16384].lstrip(b"\r\n")
    if head.startswith(b"From ") and b"\n" in head:  # mbox "From " envelope line
        head = head.split(b"\n", 1)[1]
    end = re.search(rb"\r?\n\r?\n", head)
    block = head[: end.start()] if end else head
    lines = [line for line in re.split(rb"\r?\n", block) if line and line[:1] not in (b" ", b"\t")]
    return bool(lines) and all(_HEADER_LINE.match(line) for line in lines[:50])


def raw_request(data: bytes, source: str = "mta") -> RawRequest:
    if data.startswith(b"From ") and b"\n" in data[:1000]:
        data = data.split(b"\n", 1)[1]  # mbox envelope line, added by some MTAs' pipe transports
    return RawRequest(method="PIPE", path=f"{source}:ingest_email", content_type="message/rfc822",
                      headers={}, body=data)


def ingest_raw(data: bytes, *, adapter_key: str = PIPE_ADAPTER, source: str = "mta"):
    """Store, then process; returns (payload, items). Raises NotMail for input that is not
    mail, and lets database errors through (the MTA should retry: EX_TEMPFAIL). The adapter's
    Cc participants and acknowledgements are decided by ingest, inside processing."""
    if not looks_like_mail(data):
        raise NotMail("input has no RFC 5322 header block")
    return services.receive_request(adapter_key, raw_request(data, source))
