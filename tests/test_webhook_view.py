"""The generic webhook path: what is kept, what is refused, and replay."""

import json

import pytest
from django.core.management import call_command

from tests.fakes.channel import sign
from tickets import services
from tickets.models import Event, InboundPayload, Message

pytestmark = pytest.mark.django_db


def post(client, body: bytes, signature=None):
    return client.post("/channels/fake/", body, content_type="application/json",
                       headers={"X-Fake-Signature": signature if signature is not None else sign(body)})


def test_a_malformed_but_authentic_payload_is_400_and_kept_for_replay(client, caplog):
    response = post(client, b'{"messages": [{"no-id": 1}]}')
    assert response.status_code == 400 and b"malformed" in response.content
    payload = InboundPayload.objects.get()
    assert payload.state == InboundPayload.State.FAILED and "malformed fake payload" in payload.error
    assert bytes(payload.body) == b'{"messages": [{"no-id": 1}]}'
    assert Message.objects.count() == 0
    assert "rejected" in caplog.text


def test_a_crash_while_processing_keeps_the_payload_and_replay_recovers_it(client, monkeypatch):
    body = json.dumps({"messages": [{"id": "r-1", "from": "v-1", "text": "hello"}]}).encode()
    real_ingest = services.provider_requests.ingest

    def database_down(msg):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.provider_requests, "ingest", database_down)
    client.raise_request_exception = False
    response = post(client, body)
    assert response.status_code == 500
    payload = InboundPayload.objects.get()
    assert payload.state == "failed" and "database went away" in payload.error
    assert Message.objects.count() == 0

    monkeypatch.setattr(services.provider_requests, "ingest", real_ingest)
    call_command("replay_inbound")
    payload.refresh_from_db()
    assert payload.state == "processed" and payload.error == ""
    assert Message.objects.get().text == "hello"
    call_command("replay_inbound", str(payload.pk))  # replaying again changes nothing
    assert Message.objects.count() == 1


def test_a_payload_is_processed_whole_or_not_at_all(client, monkeypatch):
    """Two messages in one webhook; the second fails: the first is not left behind half-done,
    and replay stores both."""
    body = json.dumps({"messages": [{"id": "w-1", "from": "v-1", "text": "first"},
                                    {"id": "w-2", "from": "v-2", "text": "second"}]}).encode()
    real_ingest = services.provider_requests.ingest

    def second_fails(msg):
        if msg.external_id == "w-2":
            raise RuntimeError("disk full")
        return real_ingest(msg)

    monkeypatch.setattr(services.provider_requests, "ingest", second_fails)
    client.raise_request_exception = False
    assert post(client, body).status_code == 500
    payload = InboundPayload.objects.get()
    assert payload.state == "failed" and "disk full" in payload.error
    assert Message.objects.count() == 0 and Event.objects.count() == 0

    monkeypatch.setattr(services.provider_requests, "ingest", real_ingest)
    call_command("replay_inbound", str(payload.pk))
    assert sorted(Message.objects.values_list("text", flat=True)) == ["first", "second"]


def test_queued_work_exists_exactly_when_the_change_commits(client, monkeypatch):
    """Media downloads are queued inside the ingest's transaction (the database task backend):
    a failed payload leaves no task behind, a stored one has its task without any on_commit."""
    from django_tasks_db.models import DBTaskResult

    media = {"id": "m-1", "from": "v-1", "text": "photo",
             "attachments": [{"filename": "a.jpg", "content_type": "image/jpeg", "url": "https://media.example/1"}]}
    real_ingest = services.provider_requests.ingest

    def fails_after_storing(msg):
        real_ingest(msg)
        raise RuntimeError("crash after the insert")

    monkeypatch.setattr(services.provider_requests, "ingest", fails_after_storing)
    client.raise_request_exception = False
    assert post(client, json.dumps({"messages": [media]}).encode()).status_code == 500
    assert Message.objects.count() == 0 and DBTaskResult.objects.count() == 0

    monkeypatch.setattr(services.provider_requests, "ingest", real_ingest)
    assert post(client, json.dumps({"messages": [{**media, "id": "m-2"}]}).encode()).status_code == 200
    task = DBTaskResult.objects.get()
    assert task.task_path == "tickets.tasks.fetch_attachment"
    assert task.args_kwargs["args"] == [Message.objects.get().attachments.get().pk]


def test_a_bad_signature_is_logged_and_nothing_is_kept(client, caplog):
    response = post(client, b'{"messages": []}', signature="forged")
    assert response.status_code == 403
    assert InboundPayload.objects.count() == 0
    assert "webhook rejected" in caplog.text


def test_webhooks_accept_only_post(client):
    assert client.get("/channels/fake/").status_code == 405


def test_delivery_updates_arrive_through_the_same_path(client, agent, run_tasks, django_capture_on_commit_callbacks):
    post(client, json.dumps({"messages": [{"id": "d-1", "from": "v-2", "text": "hi"}]}).encode())
    ticket = Message.objects.get().ticket
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply(ticket, author=agent, text="hello")
    run_tasks()
    body = json.dumps({"statuses": [{"id": f"fake-{reply.pk}", "status": "delivered"}]}).encode()
    assert post(client, body).status_code == 200
    reply.refresh_from_db()
    assert reply.status == "delivered"
