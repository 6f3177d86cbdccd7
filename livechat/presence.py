"""Which visitors have a page open: VisitorSession.connections and last_seen_at, written in
batches. A thousand visitors opening the page at once (a mailing, a sale) must not queue a
thousand one-row UPDATEs, each its own commit, on the connect path and in front of the
visitors' messages (SQLite has one writer). Sockets opened, closed and heard from are counted in
memory on the server's event loop and written every FLUSH_SECONDS, one statement per distinct
change and one commit for all (livechat.visitors.is_here reads them).

A write is at most FLUSH_SECONDS late, well inside LIVECHAT_OFFLINE_GRACE_SECONDS; a process
that dies with counts unwritten is the same as one that dies without its sockets saying goodbye:
LIVECHAT_VISITOR_TIMEOUT_SECONDS stops counting such a session."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from livechat.models import VisitorSession
from tickets.realtime import on_thread_pool

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5


class Counts:
    def __init__(self):
        self.pending: dict[int, int] = {}  # session pk -> change of its open-socket count
        self.timer, self.loop = None, None

    def opened(self, session_pk: int) -> None:
        self._note(session_pk, +1)

    def closed(self, session_pk: int) -> None:
        self._note(session_pk, -1)

    def seen(self, session_pk: int) -> None:
        self._note(session_pk, 0)  # only last_seen_at moves

    def _note(self, session_pk, delta):
        self.pending[session_pk] = self.pending.get(session_pk, 0) + delta
        loop = asyncio.get_running_loop()
        if self.timer is None or self.loop is not loop:  # (a test's loop may have ended since)
            self.loop, self.timer = loop, loop.call_later(FLUSH_SECONDS, lambda: asyncio.ensure_future(self.flush()))

    async def flush(self) -> None:
        """Write what is pending now (also called by tests and at shutdown)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        pending, self.pending = self.pending, {}
        if pending:
            try:
                await on_thread_pool(write)(pending)
            except Exception:  # the next batch still goes out; a lost count ages out (see above)
                log.exception("could not write the presence of %s visitor sessions", len(pending))


def write(pending: dict[int, int]) -> None:
    by_delta = defaultdict(list)
    for pk, delta in pending.items():
        by_delta[delta].append(pk)
    now = timezone.now()
    with transaction.atomic():
        for delta, pks in by_delta.items():
            VisitorSession.objects.filter(pk__in=pks).update(connections=F("connections") + delta, last_seen_at=now)


counts = Counts()
