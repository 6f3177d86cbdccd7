"""The embedded task worker (`manage.py serve`) survives any exception: it logs, backs off and
goes on, so a queued reply is still delivered (issue 12, availability).

The worker runs in a thread here, as in `serve`, against the real test database (SQLite or
PostgreSQL); the test steps in where django-tasks-db claims a task (exclusive_transaction)."""

import threading
import time

import pytest
from django.db import OperationalError, connection, connections
from django_tasks_db.management.commands import db_worker

from helpdesk.worker import ResilientWorker
from tests.factories import inbound
from tests.fakes import channel as testing
from tickets import services
from tickets.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


def new_worker():
    return ResilientWorker(queue_names=["*"], interval=0.02, batch=False, backend_name="default",
                           startup_delay=False, max_tasks=None, worker_id="survivor", excluded_queue_names=[],
                           backoff_first=0.02, backoff_max=0.1)


def start(worker):
    def run():
        try:
            worker.run()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wait_until(condition, what, limit=60):
    """Poll until `condition()`; the limit only turns a hang into a failure, it decides nothing."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def queue_reply(agent):
    ticket = services.ingest(inbound("visitor-1", "help", channel="fake", adapter="fake")).message.ticket
    return services.reply(ticket, author=agent, text="We are on it", client_id="survival-1")


def delivered(reply):
    return Message.objects.get(pk=reply.pk).status == Message.Status.SENT


def kill(worker_connection):
    """Kill the worker's database connection from outside, as a database restart would."""
    if worker_connection.vendor == "postgresql":
        pid = worker_connection.connection.info.backend_pid
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    else:  # SQLite has no server: close the file handle under Django's feet
        worker_connection.connection.close()


def test_a_killed_database_connection_does_not_stop_the_worker(agent, monkeypatch, caplog):
    seen, go_on = [], threading.Event()
    original = db_worker.exclusive_transaction

    def claiming(using=None):
        if not seen:  # the first claim: open the connection, let the test kill it, then go on
            connection.ensure_connection()
            seen.append(connections["default"])  # this thread's own connection, not the proxy
            assert go_on.wait(30)
        return original(using)

    monkeypatch.setattr(db_worker, "exclusive_transaction", claiming)
    worker = new_worker()
    thread = start(worker)
    try:
        wait_until(lambda: seen, "the worker to open its connection")
        kill(seen[0])
        reply = queue_reply(agent)
        go_on.set()
        wait_until(lambda: delivered(reply), "the queued reply to be delivered")
        assert testing.outbox == [("fake", reply.pk, "We are on it")]
    finally:
        go_on.set()
        worker.stop()
        thread.join(30)
    assert not thread.is_alive()


def test_database_is_locked_while_claiming_a_task_is_logged_and_retried(agent, monkeypatch, caplog):
    """The defect seen in production: OperationalError("database is locked") raised while
    exclusive_transaction() begins, outside the worker's own try, ended the worker for good."""
    original, failures = db_worker.exclusive_transaction, []

    def locked_three_times(using=None):
        if len(failures) < 3:
            failures.append(using)
            raise OperationalError("database is locked")
        return original(using)

    monkeypatch.setattr(db_worker, "exclusive_transaction", locked_three_times)
    reply = queue_reply(agent)
    worker = new_worker()
    thread = start(worker)
    try:
        wait_until(lambda: delivered(reply), "the queued reply to be delivered")
    finally:
        worker.stop()
        thread.join(30)
    assert worker.failures == 3
    logged = [r for r in caplog.records if r.name == "helpdesk.worker"]
    assert len(logged) == 3 and "database is locked" in logged[0].exc_text
    assert "the loop failed (1 so far); retrying in 0.0 s" in logged[0].getMessage()


def test_stop_ends_the_worker_during_its_backoff(monkeypatch):
    monkeypatch.setattr(db_worker, "exclusive_transaction", lambda using=None: (_ for _ in ()).throw(
        OperationalError("database is locked")))
    worker = new_worker()
    worker.backoff_first = worker.backoff_max = 3600  # it would sleep for an hour
    thread = start(worker)
    wait_until(lambda: worker.failures, "the first failure")
    worker.stop()
    thread.join(30)
    assert not thread.is_alive()
