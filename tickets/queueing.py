"""Queueing background work so that it happens only if the change that asked for it commits.

With the django-tasks-db backend on our own database (the decided stack) the task row is written
inside the caller's transaction: the transactional-outbox pattern. The task exists exactly when
the change does, even if the process dies right after commit, and there is one commit instead
of two (each SQLite commit was ~0.3 ms of an ingest). Any other backend gets the task from an
on_commit hook, as Django recommends for queues outside the database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.db import connection, router, transaction

# Background jobs by name. tickets/tasks.py (loaded by TicketsConfig.ready) registers its task
# objects here, so the services can queue one without importing the module that imports them.
_jobs: dict = {}


@dataclass(frozen=True)
class Outcome:
    """What a service running as a background job did: the task returns `result`; when it is
    "retrying", the task queues itself again `retry_in` seconds from now."""

    result: str  # sent | stored | failed | retrying | skipped
    retry_in: float | None = None


def register_job(task):
    """Decorator for a django.tasks Task: later(task.name, ...) queues it."""
    _jobs[task.name] = task
    return task


def later(job: str, *args) -> None:
    """Queue the registered job `job` with `args`, to run only if the caller's change commits."""
    try:
        task = _jobs[job]
    except KeyError:
        raise LookupError(f"No background job {job!r} is registered (is tickets.tasks loaded?).") from None
    enqueue_on_commit(task, *args)


def backoff(attempt: int, *, first: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1-based): `first`, doubling per attempt,
    capped at `cap`, jittered by +-20% so retries of one outage do not arrive together. A
    provider's Retry-After wins when it is longer (the caller caps it where it must)."""
    delay = min(first * (2 ** (attempt - 1)), cap) * random.uniform(0.8, 1.2)
    return max(delay, retry_after or 0)


def enqueue_on_commit(task, *args) -> None:
    backend = task.get_backend()
    if connection.in_atomic_block and _writes_to_our_database(backend):
        task.enqueue(*args)
    else:
        transaction.on_commit(lambda: task.enqueue(*args), robust=True)


def _writes_to_our_database(backend) -> bool:
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the backend is a dependency
        return False
    return isinstance(backend, DatabaseBackend) and router.db_for_write(DBTaskResult) == connection.alias
