"""HELPDESK_WEBHOOK_INGEST=worker: a webhook is answered once stored and parsed ("queued"), and
ingest workers write queued payloads in batches (tickets/ingest_worker.py)."""

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection

from tests.fakes.channel import sign
from tickets import ingest_worker, services
from tickets.channels import RawRequest
from tickets.models import Event, InboundPayload, Message

pytestmark = pytest.mark.django_db(transaction=True)
QUEUED, PROCESSED, FAILED = (InboundPayload.State.QUEUED, InboundPayload.State.PROCESSED,
                             InboundPayload.State.FAILED)


@pytest.fixture
def worker_mode(settings):
    settings.HELPDESK_WEBHOOK_INGEST = "worker"


def body(*ids) -> bytes:
    return json.dumps({"messages": [{"id": i, "from": f"v-{i}", "text": f"text {i}"} for i in ids]}).encode()


def post(client, data: bytes):
    return client.post("/channels/fake/", data, content_type="application/json",
                       headers={"X-Fake-Signature": sign(data)})


def accept(*ids) -> InboundPayload:
    data = body(*ids)
    raw = RawRequest(method="POST", body=data, headers={"X-Fake-Signature": sign(data)},
                     path="/channels/fake/", content_type="application/json")
    return services.accept_request("fake", raw)[0]


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_answer_comes_once_queued_and_a_worker_writes_it(client, worker_mode):
    assert post(client, body("d-1", "d-2")).status_code == 200
    payload = InboundPayload.objects.get()
    assert payload.state == QUEUED and Message.objects.count() == 0  # answered, not written yet
    call_command("ingest_worker", "--once")
    payload.refresh_from_db()
    assert payload.state == PROCESSED and payload.error == ""
    assert sorted(Message.objects.values_list("text", flat=True)) == ["text d-1", "text d-2"]
    assert Event.objects.filter(kind="message.created").count() == 2


def test_inline_mode_writes_before_answering(client):
    assert post(client, body("i-1")).status_code == 200
    assert InboundPayload.objects.get().state == PROCESSED and Message.objects.get().text == "text i-1"


def test_bad_input_is_still_refused_before_the_answer(client, worker_mode):
    response = post(client, b'{"messages": [{"no-id": 1}]}')
    assert response.status_code == 400 and b"malformed" in response.content
    payload = InboundPayload.objects.get()
    assert payload.state == FAILED and "malformed fake payload" in payload.error


def test_an_oversized_batch_is_quarantined_not_queued(client, worker_mode, settings):
    settings.HELPDESK_WEBHOOK_MAX_ITEMS = 2
    assert post(client, body("q-1", "q-2", "q-3")).status_code == 200
    payload = InboundPayload.objects.get()
    assert payload.state == InboundPayload.State.QUARANTINED and "3 items" in payload.error
    assert services.write_queued(10) == 0 and Message.objects.count() == 0


def test_one_batch_is_one_transaction_with_a_savepoint_per_payload(monkeypatch, caplog):
    payloads = [accept(i) for i in ("b-1", "b-2", "b-3")]
    real_ingest = services.provider_requests.ingest

    def second_fails(msg):
        if msg.external_id == "b-2":
            raise RuntimeError("the second one breaks")
        return real_ingest(msg)

    monkeypatch.setattr(services.provider_requests, "ingest", second_fails)
    commits = []
    monkeypatch.setattr(connection, "commit", lambda real=connection.commit: (commits.append(1), real())[1])
    assert services.write_queued(10) == 3
    states = dict(InboundPayload.objects.values_list("pk", "state"))
    assert [states[p.pk] for p in payloads] == [PROCESSED, FAILED, PROCESSED]
    assert "the second one breaks" in InboundPayload.objects.get(pk=payloads[1].pk).error
    assert sorted(Message.objects.values_list("text", flat=True)) == ["text b-1", "text b-3"]
    assert "failed; kept for replay" in caplog.text
    assert len(commits) == 1  # the whole batch: one commit


def test_a_database_error_leaves_it_queued_for_the_next_turn(monkeypatch, caplog):
    payload = accept("s-1")
    real_ingest = services.provider_requests.ingest

    def lost(msg):
        raise OperationalError("the database went away")

    monkeypatch.setattr(services.provider_requests, "ingest", lost)
    assert services.write_queued(10) == 0  # nothing left the queue: a worker pauses, --once stops
    assert ingest_worker.IngestWorker(batch=10).drain() == 0  # and does not spin on it
    payload.refresh_from_db()
    assert payload.state == QUEUED and payload.error == ""
    assert "not written (database); tried again later" in caplog.text

    monkeypatch.setattr(services.provider_requests, "ingest", real_ingest)
    assert services.write_queued(10) == 1
    payload.refresh_from_db()
    assert payload.state == PROCESSED and Message.objects.get().text == "text s-1"


def test_a_worker_works_through_a_backlog_batch_after_batch(monkeypatch):
    for i in range(5):
        accept(f"k-{i}")
    turns = []
    real = services.write_queued
    monkeypatch.setattr(services, "write_queued", lambda limit: (turns.append(limit), real(limit))[1])
    assert ingest_worker.IngestWorker(batch=2).drain() == 5
    assert turns == [2, 2, 2, 2]  # 2 + 2 + 1, then one that finds nothing
    assert Message.objects.count() == 5 and set(InboundPayload.objects.values_list("state", flat=True)) == {PROCESSED}


def test_payloads_other_paths_are_processing_are_left_to_them():
    """Inline ingest (the mail pipe, mailboxes, replay) stores "received" payloads: a worker never takes those."""
    services.provider_requests._store("fake", RawRequest(method="POST", body=body("m-1"), headers={}, path="/",
                                                         content_type="application/json"))
    assert services.write_queued(10) == 0 and Message.objects.count() == 0


def test_a_written_payload_is_not_written_twice():
    accept("t-1")
    assert services.write_queued(10) == 1
    assert services.write_queued(10) == 0
    assert Message.objects.count() == 1


def test_a_running_worker_writes_what_arrives_and_stops_when_told(worker_mode):
    worker = ingest_worker.IngestWorker(poll_ms=20)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        accept("r-1")
        wait_for(lambda: Message.objects.filter(text="text r-1").exists())
        accept("r-2", "r-3")
        wait_for(lambda: Message.objects.count() == 3)
    finally:
        worker.stop()
        thread.join(10)
    assert not thread.is_alive() and worker.written == 2


def test_a_worker_whose_database_fails_backs_off_and_goes_on(monkeypatch, caplog):
    accept("f-1")
    real = services.write_queued
    calls = []

    def flaky(limit):
        calls.append(limit)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(limit)

    monkeypatch.setattr(services, "write_queued", flaky)
    monkeypatch.setattr(ingest_worker, "BACKOFF_FIRST", 0.05)
    worker = ingest_worker.IngestWorker(poll_ms=20)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_for(lambda: Message.objects.filter(text="text f-1").exists())
    finally:
        worker.stop()
        thread.join(10)
    assert worker.failures == 1 and "a batch failed (1 so far); its payloads stay queued" in caplog.text


def test_replay_writes_queued_payloads_too(worker_mode):
    payload = accept("p-1")
    call_command("replay_inbound")
    payload.refresh_from_db()
    assert payload.state == PROCESSED and Message.objects.count() == 1


def test_the_command_refuses_nonsense():
    with pytest.raises(CommandError, match="--batch must be at least 1"):
        call_command("ingest_worker", "--once", "--batch", "0")
    with pytest.raises(CommandError, match="--poll-ms must not be negative"):
        call_command("ingest_worker", "--poll-ms", "-1")


def read_setting(name: str, **env) -> subprocess.CompletedProcess:
    """The production settings' `name` (repr on stdout, warnings on stderr) under `env`."""
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings; "
                               f"print(repr(settings.{name}))"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **env},
        capture_output=True, text=True, timeout=60, check=True)


def test_an_unknown_mode_is_logged_and_read_as_inline():
    result = read_setting("HELPDESK_WEBHOOK_INGEST", HELPDESK_WEBHOOK_INGEST="later")
    assert result.stdout.strip() == "'inline'"
    assert "HELPDESK_WEBHOOK_INGEST='later' is neither inline nor worker" in result.stderr


@pytest.mark.postgres
def test_two_workers_on_postgresql_never_write_the_same_payload(monkeypatch):
    for i in range(40):
        accept(f"pg-{i}")
    applied = []
    real_write = services.provider_requests._write
    monkeypatch.setattr(services.provider_requests, "_write",
                        lambda payload, *a: (applied.append(payload.pk), time.sleep(0.005), real_write(payload, *a))[2])
    workers = [ingest_worker.IngestWorker(batch=5) for _ in range(2)]
    threads = [threading.Thread(target=lambda w=w: (w.drain(), connection.close())) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(applied) == sorted(set(applied)) and len(applied) == 40  # each payload written once
    assert all(w.written > 0 for w in workers)  # both took a share
    assert Message.objects.count() == 40
