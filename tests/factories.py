"""Small helpers to build inbound messages in tests."""

import itertools

from tickets.channels import InboundAttachment, InboundMessage, ThreadHints

_ids = itertools.count(1)


def inbound(sender="ada@example.com", text="Hello", channel="email", external_id=None, **kwargs):
    hints = kwargs.pop("hints", None) or ThreadHints(**kwargs.pop("hint", {}))
    return InboundMessage(channel=channel, external_id=external_id or f"ext-{next(_ids)}", sender=sender,
                          text=text, hints=hints, **kwargs)


def attachment(name="note.txt", content=b"hello", **kwargs):
    return InboundAttachment(filename=name, content=content, **kwargs)
