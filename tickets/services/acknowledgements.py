"""Automatic "we got your message" replies: a channel that sends them registers its
acknowledger here (in its AppConfig.ready()); ingest calls it for a message that opened a
ticket and asked for one (InboundMessage.acknowledge), inside the ingest's transaction.

A registry rather than an import: tickets never imports a channel app, and the channel's rule
(email: at most one a day per sender, never to machine-made mail) stays with the channel."""

from __future__ import annotations

import logging
from collections.abc import Callable

from tickets.models import Message

log = logging.getLogger(__name__)

_ACKNOWLEDGERS: dict[str, Callable[[Message], None]] = {}


def register(channel: str, acknowledger: Callable[[Message], None]) -> None:
    """`acknowledger(message)` queues the acknowledgement of a new ticket's first message (its
    background work written with the change: tickets.queueing)."""
    _ACKNOWLEDGERS[channel] = acknowledger


def acknowledge(message: Message) -> None:
    acknowledger = _ACKNOWLEDGERS.get(message.channel)
    if acknowledger is None:
        log.warning("%s message %s asks for an acknowledgement but no acknowledger is registered",
                    message.channel, message.pk)
        return
    acknowledger(message)
