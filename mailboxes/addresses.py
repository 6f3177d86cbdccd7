"""Every mailbox's address is ours (HELPDESK_EMAIL_ADDRESS_SOURCES): mail from it is a loop, and
it is never kept as a Cc participant of a ticket (else replies would copy our own mailbox)."""

from __future__ import annotations

import time

_cache: tuple[float, tuple[str, ...]] = (0.0, ())
_TTL = 5.0  # seconds: asked several times per inbound mail; a new mailbox counts within 5 s


def own_addresses() -> tuple[str, ...]:
    global _cache
    at, addresses = _cache
    if time.monotonic() - at > _TTL:
        from mailboxes.models import Mailbox

        addresses = tuple(a.lower() for a in Mailbox.objects.values_list("address", flat=True))
        _cache = (time.monotonic(), addresses)
    return addresses


def forget() -> None:
    """After a mailbox is saved or deleted (and in tests)."""
    global _cache
    _cache = (0.0, ())
