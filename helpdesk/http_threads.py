"""Django's HTTP requests on a few long-lived threads, instead of a new thread per request.

Django's ASGI handler enters a fresh `ThreadSensitiveContext` for every request, and asgiref
gives each such context a thread of its own. Database connections are per thread, so under
Daphne every request opened its own SQLite connection (the PRAGMAs, a page cache, a mapping of
the file) and left it behind for the garbage collector, which closes it much later: 300
webhooks left ~190 SQLite file handles open, the heap grew by ~15 KB per webhook, and opening
the connection was a good part of a webhook's cost (bench/webhook_load.py, README "Real time at
team scale").

`PersistentThreads` wraps the HTTP application: each request enters a context bound to one of
`HELPDESK_HTTP_THREADS` single-thread executors (the least busy), and Django's own context nests
inside it, so its sync middleware and view run on a thread that keeps its connection
(CONN_MAX_AGE) from one request to the next. Each executor runs one call at a time; requests on
the same thread interleave between their calls, never inside one (a transaction is one call).
When every thread has been held up by one slow request for STALLED_AFTER, new requests get a
thread of their own, as before. 0 keeps Django's thread per request.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext

# A thread that has finished nothing for this long while it has work is held up (a CSV export,
# a call to a mail server in a view): new requests then get a thread of their own, as Django
# would give them, instead of queueing behind it.
STALLED_AFTER = 1.0


class PersistentThreads:
    def __init__(self, app, threads: int, stalled_after: float = STALLED_AFTER):
        self.app, self.stalled_after = app, stalled_after
        self.executors = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{i}") for i in range(threads)]
        self.busy = [0] * threads  # requests in flight per executor
        self.progress = [0.0] * threads  # when each last started work while idle, or finished a request
        self.overflow = 0  # requests sent to a thread of their own because every thread was held up
        self._lock = threading.Lock()  # several loops may share the wrapper (tests)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.executors:
            return await self.app(scope, receive, send)
        index = self._choose()
        if index is None:
            return await self.app(scope, receive, send)  # Django's own context: a new thread
        try:
            async with ThreadSensitiveContext(executor=self.executors[index]):
                return await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.busy[index] -= 1
                self.progress[index] = time.monotonic()

    def _choose(self) -> int | None:
        """The least busy executor that is not held up, counted as busy; None if all are held up."""
        now = time.monotonic()
        with self._lock:
            moving = [i for i, busy in enumerate(self.busy)
                      if not busy or now - self.progress[i] < self.stalled_after]
            if not moving:
                self.overflow += 1
                return None
            index = min(moving, key=self.busy.__getitem__)
            if not self.busy[index]:
                self.progress[index] = now
            self.busy[index] += 1
            return index
