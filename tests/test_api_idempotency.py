"""Idempotency-Key: a retried POST creates nothing twice (per token), and a crash creates nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import ApiToken, IdempotencyKey
from tests.factories import inbound
from tests.fakes.api import ApiClient, create_token
from tickets import services
from tickets.models import Event, Message, Ticket

pytestmark = pytest.mark.django_db

KEY = {"Idempotency-Key": "retry-me-1"}


@pytest.fixture
def api(agent):
    return ApiClient(create_token(agent))


@pytest.fixture
def ticket():
    return services.ingest(inbound("ada@example.com", "hello", channel="fake")).message.ticket


def outbound():
    return Message.objects.filter(direction=Message.Direction.OUTBOUND)


def test_a_retried_send_creates_one_message_and_replays_the_response(api, ticket):
    first = api.post(f"/tickets/{ticket.pk}/messages", {"text": "Refund sent"}, **KEY)
    events = Event.objects.count()
    second = api.post(f"/tickets/{ticket.pk}/messages", {"text": "Refund sent"}, **KEY)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content  # byte for byte
    assert second["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert outbound().count() == 1 and Event.objects.count() == events


def test_a_retried_ticket_creation_opens_one_ticket(api, ticket):
    body = {"customer": ticket.customer_id, "subject": "Follow-up", "text": "How was it?"}
    first = api.post("/tickets", body, **KEY)
    second = api.post("/tickets", body, **KEY)
    assert first.status_code == 201 and second.json() == first.json()
    assert Ticket.objects.filter(subject="Follow-up").count() == 1


def test_without_a_key_each_post_counts(api, ticket):
    api.post(f"/tickets/{ticket.pk}/notes", {"text": "n"})
    api.post(f"/tickets/{ticket.pk}/notes", {"text": "n"})
    assert Message.objects.filter(direction="note").count() == 2


def test_the_same_key_with_another_request_is_a_422(api, ticket):
    api.post(f"/tickets/{ticket.pk}/messages", {"text": "one"}, **KEY)
    response = api.post(f"/tickets/{ticket.pk}/messages", {"text": "two"}, **KEY)
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    response = api.post(f"/tickets/{ticket.pk}/notes", {"text": "one"}, **KEY)  # another endpoint
    assert response.status_code == 422
    assert outbound().count() == 1 and not Message.objects.filter(direction="note").exists()


def test_keys_are_scoped_per_token(api, agent, ticket):
    other = ApiClient(create_token(agent, name="second integration"))
    api.post(f"/tickets/{ticket.pk}/messages", {"text": "hi"}, **KEY)
    response = other.post(f"/tickets/{ticket.pk}/messages", {"text": "hi"}, **KEY)
    assert response.status_code == 201 and not response.has_header("Idempotent-Replayed")
    assert outbound().count() == 2


def test_a_failed_request_is_not_remembered(api, ticket):
    refused = api.post(f"/tickets/{ticket.pk}/messages", {"text": "hi", "channel": "pigeon"}, **KEY)
    assert refused.status_code == 422 and not IdempotencyKey.objects.exists()
    ok = api.post(f"/tickets/{ticket.pk}/messages", {"text": "hi", "channel": "pigeon"}, **KEY)
    assert ok.status_code == 422  # ran again (and was refused again), nothing stored


def test_a_key_still_in_flight_is_a_409(api, agent, ticket):
    token = ApiToken.objects.get()
    IdempotencyKey.objects.create(token=token, key=KEY["Idempotency-Key"], method="POST",
                                  path=f"/api/v1/tickets/{ticket.pk}/notes",
                                  fingerprint=_fingerprint_of(api, ticket))
    response = api.post(f"/tickets/{ticket.pk}/notes", {"text": "n"}, **KEY)
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_in_use"
    assert not Message.objects.filter(direction="note").exists()
    # A claim left by a request that died long ago is taken over.
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    assert api.post(f"/tickets/{ticket.pk}/notes", {"text": "n"}, **KEY).status_code == 201
    assert Message.objects.filter(direction="note").count() == 1


def _fingerprint_of(api, ticket):
    """Record the fingerprint a real request computes, then forget that request."""
    api.post(f"/tickets/{ticket.pk}/notes", {"text": "n"}, **{"Idempotency-Key": "probe"})
    fingerprint = IdempotencyKey.objects.get(key="probe").fingerprint
    IdempotencyKey.objects.filter(key="probe").delete()
    Message.objects.filter(direction="note").delete()
    return fingerprint


def test_an_expired_key_runs_again(api, ticket, settings):
    api.post(f"/tickets/{ticket.pk}/notes", {"text": "daily"}, **KEY)
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=settings.HELPDESK_API_IDEMPOTENCY_HOURS + 1))
    response = api.post(f"/tickets/{ticket.pk}/notes", {"text": "daily"}, **KEY)
    assert response.status_code == 201 and not response.has_header("Idempotent-Replayed")
    assert Message.objects.filter(direction="note").count() == 2


def test_a_crash_after_the_write_keeps_neither_the_write_nor_the_key(agent, ticket, monkeypatch):
    from api.views import tickets as views

    def explode(message):
        raise RuntimeError("the process died while rendering")

    monkeypatch.setattr(views.MessageOut, "from_orm", explode)
    api = ApiClient(create_token(agent), raise_request_exception=False)
    response = api.post(f"/tickets/{ticket.pk}/messages", {"text": "hi"}, **KEY)
    assert response.status_code == 500
    assert not outbound().exists() and not IdempotencyKey.objects.exists()
    monkeypatch.undo()
    assert api.post(f"/tickets/{ticket.pk}/messages", {"text": "hi"}, **KEY).status_code == 201
    assert outbound().count() == 1


def test_an_invalid_key_is_refused(api, ticket):
    response = api.post(f"/tickets/{ticket.pk}/notes", {"text": "n"}, **{"Idempotency-Key": "x" * 300})
    assert response.status_code in (400, 422) and "code" in response.json()
    assert not Message.objects.filter(direction="note").exists()


def test_prune_forgets_old_keys(api, ticket):
    from django.core.management import call_command

    api.post(f"/tickets/{ticket.pk}/notes", {"text": "n"}, **KEY)
    api.post(f"/tickets/{ticket.pk}/notes", {"text": "m"}, **{"Idempotency-Key": "fresh"})
    IdempotencyKey.objects.filter(key=KEY["Idempotency-Key"]).update(created_at=timezone.now() - timedelta(days=2))
    call_command("prune_api_idempotency", stdout=__import__("io").StringIO())
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
