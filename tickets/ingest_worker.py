"""Webhooks answered once stored, written by ingest workers: HELPDESK_WEBHOOK_INGEST=worker.

By default (`inline`) a webhook's answer waits for its messages to be written: the provider's
200 means "in a ticket", and a database error reaches it as a 5xx it retries. That writing is
most of a webhook's cost, and it runs on the server process's one interpreter, beside Daphne,
Django and every other request (README, *The webhook's own work*). In `worker` mode the view
verifies, stores and parses the request (bad input still gets its 4xx), and answers once the
payload is committed as "queued"; an ingest worker writes queued payloads in batches
(services.write_queued: one transaction, one commit and one round of after-commit work per
batch, a savepoint per payload). The 200 then means "kept": nothing is lost, the stored payload
is the queue, and Chatwoot answers Twilio and Meta the same way (enqueue, then 200). The price
is that a message reaches the console a worker's turn later, and a write error no longer reaches
the provider (it is logged and kept on the payload, for replay).

Where the workers run: `manage.py ingest_worker` processes (scaled mode, on cores of their own:
that is the point), or a thread of `manage.py serve` when it runs the task worker (the one-
command default: the writing then shares the server's interpreter, which saves little, see the
README, but nothing waits for a process nobody started). On the in-memory channel layer only
the thread publishes to the server's consoles at once; a separate process's changes reach them
at the watchman's next read of the event log, so use Redis with separate workers.

A worker that finds nothing waits HELPDESK_INGEST_POLL_MS before it looks again; one that finds
work goes on at once. A database that goes away makes it log, back off and go on (the task
worker's backoff, helpdesk.worker); the payloads stay queued.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from django.conf import settings
from django.db import connections

from helpdesk.worker import BACKOFF_FIRST, BACKOFF_MAX, CALM_AFTER

log = logging.getLogger(__name__)


def enabled() -> bool:
    return settings.HELPDESK_WEBHOOK_INGEST == "worker"


class IngestWorker:
    def __init__(self, batch: int | None = None, poll_ms: int | None = None, name: str = "ingest worker"):
        self.batch = batch or settings.HELPDESK_INGEST_BATCH
        self.poll = (settings.HELPDESK_INGEST_POLL_MS if poll_ms is None else poll_ms) / 1000
        self.name = name
        self.written = 0  # payloads that left the queue (for the command's summary and the tests)
        self.failures = 0
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def turn(self) -> int:
        """One batch; how many payloads left the queue (written, or failed and kept). With the
        ingest spool, what it holds is moved into the database queue first."""
        from tickets import ingest_spool, services

        if ingest_spool.enabled():
            try:
                ingest_spool.move(self.batch)
            except sqlite3.Error:  # the spool's file, not the database: write what is queued anyway
                log.exception("%s: the ingest spool %s could not be read; retrying next turn",
                              self.name, settings.HELPDESK_INGEST_SPOOL)
        count = services.write_queued(self.batch)
        self.written += count
        return count

    def drain(self) -> int:
        """Turns until a turn finds nothing it can write (`ingest_worker --once`, the tests)."""
        total = 0
        while count := self.turn():
            total += count
        return total

    def run(self) -> None:
        delay, last_failure = BACKOFF_FIRST, 0.0
        try:
            while not self._stop.is_set():
                try:
                    if self.turn():
                        continue  # more may be waiting: no pause under load
                except Exception:
                    now = time.monotonic()
                    if now - last_failure > CALM_AFTER:
                        delay = BACKOFF_FIRST
                    last_failure = now
                    self.failures += 1
                    log.exception("%s: a batch failed (%d so far); its payloads stay queued; retrying in %.1f s",
                                  self.name, self.failures, delay)
                    connections.close_all()  # a broken connection is of no further use
                    self._stop.wait(delay)
                    delay = min(delay * 2, BACKOFF_MAX)
                    continue
                self._stop.wait(self.poll)
        finally:
            connections.close_all()  # this thread's connection (a pool slot on PostgreSQL)
