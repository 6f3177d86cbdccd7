"""Waking listeners outside a change: a socket that has just joined new groups (a chat
visitor's new ticket, seen by their other tabs and devices) reads what it missed.

A service so that apps never ring the doorbell (tickets.doorbell, the transport) themselves:
like every other ring, this one goes out after the caller's transaction commits."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from tickets import doorbell


def wake_listeners(groups: Iterable[str]) -> None:
    """Ring `groups` up to the latest committed event, after commit (at once outside one)."""
    groups = list(groups)
    transaction.on_commit(lambda: doorbell.ring_latest(groups))
