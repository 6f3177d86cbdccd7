"""A fake channel for tests, in the style of Django's locmem email backend: parsed
messages come from a signed JSON body, sends land in an in-memory outbox."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

from tickets.channels import (
    BaseAdapter,
    DeliveryUpdate,
    InboundAttachment,
    InboundMessage,
    PayloadError,
    PermanentDeliveryError,
    SignatureError,
    ThreadHints,
    TransientDeliveryError,
)

outbox: list = []  # (adapter key, message id, text) for every delivered message
failures: list = []  # exceptions deliver() raises next, first in first out
fetch_failures: list = []  # exceptions fetch_attachment() raises next, first in first out


def refuse_next(count: int = 1) -> None:
    """The next `count` sends are refused for good, as a provider refuses an invalid number."""
    failures.extend(PermanentDeliveryError("the fake provider refused it", code="fake-permanent")
                    for _ in range(count))


def busy_next(count: int = 1) -> None:
    """The next `count` sends fail transiently (worth a retry), as a rate-limited provider."""
    failures.extend(TransientDeliveryError("the fake provider is busy", code="fake-transient")
                    for _ in range(count))


def sign(body: bytes, secret: str = "fake-secret") -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeAdapter(BaseAdapter):
    """Webhook body: {"messages": [{"id", "from", "name", "text", "subject", "ticket",
    "reply_to", "session", "meta", "attachments": [{"filename", "content_type", "text"|"url"}]}],
    "statuses": [{"id", "status", "error_code", "error"}]}, signed in X-Fake-Signature."""

    channel = "fake"

    def __init__(self, key, channel="fake", secret="fake-secret", **options):
        super().__init__(key, **options)
        self.channel, self.secret = channel, secret

    def verify(self, request):
        if not self.secrets_match(request.header("X-Fake-Signature"), sign(request.body, self.secret)):
            raise SignatureError("bad X-Fake-Signature")

    def parse(self, request):
        try:
            data = json.loads(request.body)
            items = []
            for m in data.get("messages", []):
                items.append(InboundMessage(
                    channel=self.channel, adapter=self.key, external_id=str(m["id"]), sender=m["from"],
                    sender_name=m.get("name", ""), subject=m.get("subject", ""), text=m.get("text", ""),
                    html=m.get("html", ""),
                    hints=ThreadHints(ticket_id=m.get("ticket"), session=m.get("session", ""),
                                      reply_to_external_ids=tuple(m.get("reply_to", ()))),
                    attachments=tuple(
                        InboundAttachment(filename=a["filename"], content_type=a.get("content_type", "text/plain"),
                                          content=a["text"].encode() if "text" in a else None, url=a.get("url", ""))
                        for a in m.get("attachments", [])),
                    timestamp=datetime.fromisoformat(m["at"]) if m.get("at") else None,
                    meta=m.get("meta") or {},
                    raw=m,
                ))
            for s in data.get("statuses", []):
                items.append(DeliveryUpdate(channel=self.channel, external_id=s["id"], status=s["status"],
                                            error_code=s.get("error_code", ""), error_message=s.get("error", "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise PayloadError(f"malformed fake payload: {exc}") from exc
        return items

    def deliver(self, message):
        if failures:  # scripted by the test (refuse_next, busy_next), never by the message text
            raise failures.pop(0)
        outbox.append((self.key, message.pk, message.text))
        return f"fake-{message.pk}"

    def fetch_attachment(self, attachment):
        if fetch_failures:  # scripted by the test, never by the URL
            raise fetch_failures.pop(0)
        return f"content of {attachment.source_url}".encode()
