"""The active inbox of a key, as the visitor socket's handshake needs it (origins), kept for a
few seconds per process: a thousand visitors connecting at once would otherwise each spend a
thread hop and a query on the same row. Saving or deleting an inbox in this process forgets it at
once; another process's change (the admin of a scaled deployment) is seen within MAX_AGE
seconds. Token checks still read the inbox's `is_active` from the database (visitors.session_for_token)."""

from __future__ import annotations

import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from livechat.models import Inbox
from tickets.realtime import on_thread_pool

MAX_AGE = 5.0  # seconds

_cache: dict[str, tuple[float, Inbox | None]] = {}


async def active_inbox(key: str) -> Inbox | None:
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < MAX_AGE:
        return hit[1]
    inbox = await _read(key)
    _cache[key] = (time.monotonic(), inbox)
    if len(_cache) > 1000:  # unknown keys from scanners must not grow it without bound
        _cache.clear()
    return inbox


@on_thread_pool  # not the one thread-sensitive thread: a thousand visitors connect at once
def _read(key):
    return Inbox.objects.filter(key=key, is_active=True).first()


@receiver([post_save, post_delete], sender=Inbox)
def forget(sender, instance, **kwargs):
    _cache.pop(instance.key, None)
