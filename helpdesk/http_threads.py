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
0 keeps Django's thread per request.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext


class PersistentThreads:
    def __init__(self, app, threads: int):
        self.app = app
        self.executors = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{i}") for i in range(threads)]
        self.busy = [0] * threads  # requests in flight per executor (read and written on the loop only)
        self._lock = threading.Lock()  # in case several loops share the wrapper (tests)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.executors:
            return await self.app(scope, receive, send)
        with self._lock:
            index = min(range(len(self.busy)), key=self.busy.__getitem__)
            self.busy[index] += 1
        try:
            async with ThreadSensitiveContext(executor=self.executors[index]):
                return await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.busy[index] -= 1
