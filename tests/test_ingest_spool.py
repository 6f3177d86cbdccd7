"""The ingest spool (tickets/ingest_spool.py): with HELPDESK_WEBHOOK_INGEST=worker on SQLite and
HELPDESK_INGEST_SPOOL set, the server keeps an answered webhook in a file of its own, so its
insert never waits for the ingest worker's write lock; a worker moves it into the database queue
and writes it."""

import json
import sqlite3
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from tests.fakes.channel import sign
from tests.test_ingest_worker import read_setting
from tickets import ingest_spool, services, sql
from tickets.channels import RawRequest
from tickets.models import InboundPayload, Message

sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'", reason=(
    "the ingest spool is SQLite's: on PostgreSQL HELPDESK_INGEST_SPOOL is ignored "
    "(test_the_setting_is_ignored_on_postgresql)"))
QUEUED, PROCESSED, FAILED = (InboundPayload.State.QUEUED, InboundPayload.State.PROCESSED,
                             InboundPayload.State.FAILED)


@pytest.fixture
def spooled(settings, tmp_path):
    settings.HELPDESK_WEBHOOK_INGEST = "worker"
    settings.HELPDESK_INGEST_SPOOL = str(tmp_path / "spool.sqlite3")
    return tmp_path / "spool.sqlite3"


def body(*ids) -> bytes:
    return json.dumps({"messages": [{"id": i, "from": f"v-{i}", "text": f"text {i}"} for i in ids]}).encode()


def post(client, data: bytes):
    return client.post("/channels/fake/", data, content_type="application/json",
                       headers={"X-Fake-Signature": sign(data)})


def raw_request(data: bytes) -> RawRequest:
    return RawRequest(method="POST", body=data, headers={"X-Fake-Signature": sign(data)},
                      path="/channels/fake/", content_type="application/json")


@sqlite_only
@pytest.mark.django_db
def test_the_answer_comes_once_spooled_and_a_worker_moves_and_writes_it(client, spooled):
    data = body("s-1", "s-2")
    assert post(client, data).status_code == 200
    assert ingest_spool.waiting() == 1 and not InboundPayload.objects.exists()  # in the spool's file only
    with sqlite3.connect(spooled) as db:
        assert sql.spool_count(db) == 1
    answered = timezone.now()
    call_command("ingest_worker", "--once")
    payload = InboundPayload.objects.get()
    assert payload.state == PROCESSED and payload.error == "" and len(payload.spool_key) == 32
    assert bytes(payload.body) == data and payload.headers["X-Fake-Signature"] == sign(data)
    assert payload.path == "/channels/fake/" and payload.content_type == "application/json"
    assert answered - timedelta(seconds=5) < payload.received_at <= answered  # received, not moved, then
    assert sorted(Message.objects.values_list("text", flat=True)) == ["text s-1", "text s-2"]
    assert ingest_spool.waiting() == 0


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_the_server_keeps_answering_while_another_writer_holds_the_database(spooled, settings):
    """What the spool is for: on SQLite's one writer, the database queue's insert has to wait."""
    holding, release = threading.Event(), threading.Event()

    def writer():  # an ingest worker in the middle of its batch
        with transaction.atomic():
            InboundPayload.objects.create(adapter="fake", body=b"{}", state=PROCESSED)
            holding.set()
            release.wait(30)
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        payload, items = services.accept_request("fake", raw_request(body("l-1")))
        assert payload.pk is None and payload.spool_key and [m.external_id for m in items] == ["l-1"]
        settings.HELPDESK_INGEST_SPOOL = ""  # the control: the same request into the database queue
        connection.ensure_connection()  # (the spooled request above never opened it)
        connection.connection.execute("PRAGMA busy_timeout=300")  # waits, then gives up
        with pytest.raises(OperationalError, match="locked"):
            services.accept_request("fake", raw_request(body("l-2")))
    finally:
        connection.close()  # its busy timeout with it
        release.set()
        thread.join(30)
    settings.HELPDESK_INGEST_SPOOL = str(spooled)
    assert ingest_spool.move(10) == 1 and services.write_queued(10) == 1
    assert Message.objects.get().text == "text l-1"


@sqlite_only
@pytest.mark.django_db
def test_a_worker_that_dies_between_the_move_and_the_delete_moves_nothing_twice(spooled, monkeypatch):
    for i in ("c-1", "c-2"):
        services.accept_request("fake", raw_request(body(i)))

    def dies(db, last_id):
        raise KeyboardInterrupt("killed after the move's commit")

    monkeypatch.setattr(sql, "spool_delete_upto", dies)
    with pytest.raises(KeyboardInterrupt, match="killed after"):
        ingest_spool.move(10)
    monkeypatch.undo()
    assert InboundPayload.objects.filter(state=QUEUED).count() == 2 and ingest_spool.waiting() == 2
    assert ingest_spool.move(10) == 2  # the next worker finds them still spooled...
    assert InboundPayload.objects.count() == 2 and ingest_spool.waiting() == 0  # ...and they are there once
    assert services.write_queued(10) == 2 and Message.objects.count() == 2


@sqlite_only
@pytest.mark.django_db
def test_bad_input_is_refused_and_kept_in_the_database_not_spooled(client, spooled):
    response = post(client, b'{"messages": [{"no-id": 1}]}')
    assert response.status_code == 400 and b"malformed" in response.content
    payload = InboundPayload.objects.get()
    assert payload.state == FAILED and "malformed fake payload" in payload.error and payload.spool_key is None
    assert ingest_spool.waiting() == 0


@sqlite_only
@pytest.mark.django_db
def test_a_spool_that_cannot_be_written_queues_in_the_database_and_says_so(client, settings, tmp_path, caplog):
    settings.HELPDESK_WEBHOOK_INGEST = "worker"
    settings.HELPDESK_INGEST_SPOOL = str(tmp_path / "no such directory" / "spool.sqlite3")
    assert post(client, body("u-1")).status_code == 200
    payload = InboundPayload.objects.get()
    assert payload.state == QUEUED and payload.spool_key is None
    assert "would not take a fake webhook; queued in the database instead" in caplog.text
    call_command("ingest_worker", "--once")  # the worker logs the spool it cannot read and writes the queue
    assert Message.objects.get().text == "text u-1"
    assert "the ingest spool" in caplog.text and "could not be read" in caplog.text


@sqlite_only
@pytest.mark.django_db
def test_replay_writes_what_is_still_spooled(spooled):
    services.accept_request("fake", raw_request(body("r-1")))
    call_command("replay_inbound")
    assert InboundPayload.objects.get().state == PROCESSED and Message.objects.get().text == "text r-1"
    assert ingest_spool.waiting() == 0


@sqlite_only
@pytest.mark.django_db
def test_a_status_callback_that_overtakes_its_send_is_stored_at_once_for_its_second_look(
        client, agent, spooled, django_capture_on_commit_callbacks):
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    from channels_sms.tasks import reprocess_status_callback
    from tests.fakes.twilio import form_body, load_captured
    from tests.fakes.twilio import sign as twilio_sign
    from tests.test_sms_status import FIXTURES, FORM, STATUS_URL

    captured = load_captured(FIXTURES / "twilio_sms_inbound.txt")
    client.post(captured.path, captured.body, content_type=FORM, headers={"X-Twilio-Signature": captured.signature})
    assert ingest_spool.waiting() == 1  # an ordinary webhook: spooled
    ingest_spool.move(10) and services.write_queued(10)
    inbound = Message.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply(inbound.ticket, author=agent, text="On its way.", channel="sms")
    params = {"MessageSid": "SM" + "e" * 32, "MessageStatus": "delivered", "To": inbound.identity.address,
              "From": "+15005550006", "AccountSid": settings.TWILIO_ACCOUNT_SID}
    path = f"{STATUS_URL}?message={reply.pk}"  # Twilio reports it before our worker recorded the send
    signature = twilio_sign(settings.HELPDESK_PUBLIC_URL + path, params, settings.TWILIO_AUTH_TOKEN)
    assert client.post(path, form_body(params), content_type=FORM,
                       headers={"X-Twilio-Signature": signature}).status_code == 200
    stored = InboundPayload.objects.get(state=QUEUED)  # a row at once, not the spool: its pk is scheduled
    assert stored.spool_key is None and ingest_spool.waiting() == 0
    task = DBTaskResult.objects.get(task_path=reprocess_status_callback.module_path)
    assert task.args_kwargs["args"][0] == stored.pk


@sqlite_only
@pytest.mark.django_db
def test_prepared_rows_are_written_as_the_orm_writes_them(spooled):
    """tickets.sql's spool statements against the ORM: a payload through prepared_row, the
    spool's file and insert_prepared_unless_exists reads back as the ORM stored its twin."""
    fields = {"adapter": "fake", "path": "/p?x=1", "content_type": "text/plain", "state": QUEUED,
              "headers": {"A": "é", "n": [1, 2]}, "body": b"\x00\xffbytes"}
    twin = InboundPayload.objects.create(**fields)
    spooled_one = InboundPayload(**fields, spool_key="k" * 32)
    columns = sql.prepared_columns(InboundPayload)
    with sqlite3.connect(":memory:") as db:
        sql.spool_create(db, columns)
        sql.spool_append(db, columns, sql.prepared_row(spooled_one))
        rows = sql.spool_oldest(db, columns, 10)
    sql.insert_prepared_unless_exists(InboundPayload, columns, [row[1:] for row in rows] * 2, "spool_key")
    moved = InboundPayload.objects.get(spool_key="k" * 32)  # once, though given twice
    for name in ("adapter", "path", "content_type", "state", "headers", "error", "processed_at"):
        assert getattr(moved, name) == getattr(twin, name), name
    assert bytes(moved.body) == bytes(twin.body)
    assert abs(moved.received_at - twin.received_at) < timedelta(seconds=5)


def test_the_setting_is_ignored_on_postgresql():
    result = read_setting("HELPDESK_INGEST_SPOOL", HELPDESK_INGEST_SPOOL="/tmp/spool.sqlite3",
                          DATABASE_URL="postgres://postgres@127.0.0.1:5432/never_connected")
    assert result.stdout.strip() == "''"
    assert "HELPDESK_INGEST_SPOOL is for SQLite; on this database the queue stays in the database" in result.stderr


def test_a_relative_spool_path_is_in_the_var_directory(tmp_path):
    """A server and a worker started from different directories must share one spool."""
    shared = {"HELPDESK_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    assert read_setting("HELPDESK_INGEST_SPOOL", HELPDESK_INGEST_SPOOL="spool.sqlite3",
                        **shared).stdout.strip() == repr(str(tmp_path / "spool.sqlite3"))
    assert read_setting("HELPDESK_INGEST_SPOOL", HELPDESK_INGEST_SPOOL="/srv/spool.sqlite3",
                        **shared).stdout.strip() == "'/srv/spool.sqlite3'"
