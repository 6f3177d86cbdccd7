"""The embedded task worker (`manage.py serve`) that survives its database going away.

django-tasks-db's Worker.run() is one loop that lets any exception out: "database is locked"
while it opens its exclusive transaction, a connection killed under it, a failure recording a
result. In `serve` that loop runs as a task on the server's event loop, so one such exception
ended the worker for good ("Task exception was never retrieved") and replies stayed queued until
a restart. Here the loop is restarted instead: log, drop the broken connections, back off
(doubling, capped), go on. Only a stop request ends it."""

from __future__ import annotations

import logging
import threading
import time

from django.db import connections
from django_tasks_db.management.commands.db_worker import Worker

log = logging.getLogger(__name__)

BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0
CALM_AFTER = 60.0  # seconds without an error after which the backoff starts small again


class ResilientWorker(Worker):
    def __init__(self, *args, backoff_first: float = BACKOFF_FIRST, backoff_max: float = BACKOFF_MAX, **kwargs):
        super().__init__(*args, **kwargs)
        self.backoff_first, self.backoff_max = backoff_first, backoff_max
        self.failures = 0  # how many times the loop was restarted (for the log and the tests)
        self._stop = threading.Event()

    def stop(self) -> None:
        self.running = False
        self._stop.set()

    def run(self) -> None:
        delay, last_failure = self.backoff_first, 0.0
        while self.running:
            try:
                super().run()
                return  # stopped, or a batch / max_tasks run finished
            except Exception:
                now = time.monotonic()
                if now - last_failure > CALM_AFTER:
                    delay = self.backoff_first
                last_failure = now
                self.failures += 1
                log.exception("task worker %s: the loop failed (%d so far); retrying in %.1f s",
                              self.worker_id, self.failures, delay)
                # A killed or broken connection is of no further use; the next loop opens a fresh one.
                connections.close_all()
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, self.backoff_max)
