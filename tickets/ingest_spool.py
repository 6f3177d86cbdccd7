"""The ingest spool: where HELPDESK_WEBHOOK_INGEST=worker keeps the webhooks it has answered
when the database is SQLite and HELPDESK_INGEST_SPOOL names a file (README, *Webhooks answered
once stored*).

Why a second file: SQLite has one writer. With the queue in the database, the server's insert
of each queued payload waited for the ingest worker's write transaction (1.4-1.8 ms on average,
19 ms at p99, on the server's one HTTP thread), so answering never got within 1.5x of a trivial
view. The server now appends to the spool, whose lock only a worker's short delete ever holds;
a worker moves what it finds into InboundPayload as "queued" (one short transaction: from there
on it is the database queue as before, in the admin, for replay and for write_queued), then
deletes it from the spool.

Nothing lost, nothing twice: the spool is a WAL database with the main database's durability
(synchronous=NORMAL: a crash of the process loses nothing committed). Each spooled request
carries a random key kept on its InboundPayload (unique), so a worker that dies between the
move's commit and the spool's delete moves nothing twice. A spool that cannot be written (a bad
path, a full disk) is logged and the request queued in the database: a bad setting never stops
ingest. On PostgreSQL the setting is ignored (no single writer there; the spool would be one
machine's file)."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import uuid

from django.conf import settings
from django.db import connection, transaction

from tickets import sql
from tickets.channels import RawRequest
from tickets.models import InboundPayload

log = logging.getLogger(__name__)
_local = threading.local()  # one sqlite3 connection per thread (and per process: see _db)


def enabled() -> bool:
    return bool(settings.HELPDESK_INGEST_SPOOL) and connection.vendor == "sqlite"


def spool(adapter_key: str, raw: RawRequest) -> InboundPayload | None:
    """Keep an already verified (and parsed) request in the spool, committed: the unsaved
    InboundPayload it will become, or None if the spool would not take it (logged; the caller
    queues it in the database instead)."""
    payload = InboundPayload(adapter=adapter_key, path=raw.path[:500], content_type=raw.content_type[:255],
                             headers=raw.headers, body=raw.body, state=InboundPayload.State.QUEUED,
                             spool_key=uuid.uuid4().hex)
    try:
        sql.spool_append(_db(), _columns(), sql.prepared_row(payload))
    except (sqlite3.Error, OSError):
        log.exception("ingest spool %s would not take a %s webhook; queued in the database instead",
                      settings.HELPDESK_INGEST_SPOOL, adapter_key)
        _forget()
        return None
    return payload


def move(limit: int) -> int:
    """Move up to `limit` spooled requests, oldest first, into InboundPayload ("queued", as they
    were received: the time too); how many. A database error leaves them spooled."""
    db, columns = _db(), _columns()
    rows = sql.spool_oldest(db, columns, limit)
    if not rows:
        return 0
    with transaction.atomic():
        sql.insert_prepared_unless_exists(InboundPayload, columns, [row[1:] for row in rows], "spool_key")
    sql.spool_delete_upto(db, rows[-1][0])  # after the commit: a crash in between is skipped by spool_key
    return len(rows)


def move_all(batch: int = 500) -> int:
    """Everything spooled now into the database queue (replay_inbound)."""
    total = 0
    while moved := move(batch):
        total += moved
    return total


def waiting() -> int:
    """Requests spooled and not yet moved."""
    return sql.spool_count(_db())


def _columns() -> list[str]:
    return sql.prepared_columns(InboundPayload)


def _db() -> sqlite3.Connection:
    """This thread's connection to the spool, opened (and the file made) on first use. Keyed by
    the process too: a connection must not cross a fork (serve's --http-workers pool)."""
    key = (os.getpid(), settings.HELPDESK_INGEST_SPOOL)
    if getattr(_local, "key", None) != key:
        _forget()
        db = sqlite3.connect(settings.HELPDESK_INGEST_SPOOL, timeout=30, isolation_level=None)
        try:
            sql.spool_create(db, _columns())
        except sqlite3.Error:
            db.close()
            raise
        _local.db, _local.key = db, key
    return _local.db


def _forget() -> None:
    db, key = getattr(_local, "db", None), getattr(_local, "key", None)
    _local.db = _local.key = None
    if db is not None and key[0] == os.getpid():  # a parent's connection is left alone after a fork
        db.close()
