"""The contract every channel adapter passes. Subclass AdapterContract in a test module named
test_<channel>_contract.py, fill in the hooks, and these tests run against your adapter through
the real URL, the real webhook view, the real services and the real task worker.

    class TestTwilioSmsContract(AdapterContract):
        adapter_key = "sms"
        url = "/channels/twilio/sms/"
        def signed_request(self): ...            # -> WebhookRequest of a captured payload
        def expected_messages(self): ...          # -> [Expected(...), ...]
        def unsigned_request(self): ...           # -> the same payload with a bad signature
        def fake_provider(self): ...              # -> context manager faking the HTTP boundary;
                                                  #    yields the provider id deliver() must record
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import pytest

from tickets import services
from tickets.models import Event, InboundPayload, Message


@dataclass
class WebhookRequest:
    body: bytes
    content_type: str
    headers: dict = field(default_factory=dict)  # HTTP header names, e.g. {"X-Twilio-Signature": ...}
    query: str = ""


@dataclass
class Expected:
    channel: str
    external_id: str
    sender: str
    text_contains: str = ""


def post(client, url, request: WebhookRequest):
    target = f"{url}?{request.query}" if request.query else url
    return client.generic("POST", target, request.body, content_type=request.content_type,
                          headers=request.headers)


@pytest.mark.django_db
class AdapterContract:
    adapter_key: str = ""
    url: str = ""
    ok_statuses = (200, 201, 202, 204)

    # --- hooks -------------------------------------------------------------------------------
    def signed_request(self) -> WebhookRequest:
        raise NotImplementedError

    def unsigned_request(self) -> WebhookRequest:
        raise NotImplementedError

    def expected_messages(self) -> list[Expected]:
        raise NotImplementedError

    def fake_provider(self):
        """A context manager faking the provider's HTTP API; yields the provider id."""
        return contextlib.nullcontext("")

    def unsigned_variants(self) -> list[WebhookRequest]:
        """Other ways to be unauthenticated: by default, the signature headers removed."""
        req = self.signed_request()
        return [WebhookRequest(req.body, req.content_type, {}, req.query)]

    # --- the contract ------------------------------------------------------------------------
    def test_parse_gives_the_expected_messages(self, client):
        response = post(client, self.url, self.signed_request())
        assert response.status_code in self.ok_statuses, response.content
        for exp in self.expected_messages():
            message = Message.objects.get(channel=exp.channel, external_id=exp.external_id)
            assert message.direction == Message.Direction.INBOUND
            assert message.identity.address == exp.sender
            assert exp.text_contains in message.text
        assert Message.objects.count() == len(self.expected_messages())

    def test_bad_signature_is_403_and_stores_nothing(self, client):
        for request in [self.unsigned_request(), *self.unsigned_variants()]:
            response = post(client, self.url, request)
            assert response.status_code == 403, response.content
        assert Message.objects.count() == 0
        assert InboundPayload.objects.count() == 0
        assert Event.objects.count() == 0

    def test_the_same_payload_twice_is_one_message_and_one_event(self, client):
        for _ in range(2):
            response = post(client, self.url, self.signed_request())
            assert response.status_code in self.ok_statuses, response.content
        expected = self.expected_messages()
        assert Message.objects.count() == len(expected)
        assert Event.objects.filter(kind="message.created").count() == len(expected)

    def test_deliver_records_the_provider_id(self, client, agent, run_tasks, django_capture_on_commit_callbacks):
        post(client, self.url, self.signed_request())
        inbound = Message.objects.get(external_id=self.expected_messages()[0].external_id)
        with self.fake_provider() as provider_id:
            with django_capture_on_commit_callbacks(execute=True):
                reply = services.reply(inbound.ticket, author=agent, text="Thanks, we are on it.",
                                       channel=inbound.channel, client_id="contract-1")
            assert reply.status == Message.Status.QUEUED
            run_tasks()
        reply.refresh_from_db()
        assert reply.status in (Message.Status.SENT, Message.Status.DELIVERED), reply.error_message
        assert reply.external_id == provider_id
        assert reply.adapter == self.adapter_key
