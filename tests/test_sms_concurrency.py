"""50 concurrent copies of one signed Twilio webhook give one message (real PostgreSQL)."""

from pathlib import Path

import pytest
from django.test import Client

from tests.factories import run_at_once
from tests.fakes.twilio import load_captured
from tickets.models import Customer, Event, Identity, InboundPayload, Message, Ticket

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).parent / "fixtures" / "sms"
COPIES = 50


def post_at_once(captured, headers_for):
    statuses = []

    def post(i):
        response = Client().post(captured.path, captured.body, content_type="application/x-www-form-urlencoded",
                                 headers={"X-Twilio-Signature": captured.signature, **headers_for(i)})
        statuses.append(response.status_code)

    return statuses, run_at_once(post, COPIES)


@pytest.mark.parametrize("fixture", ["twilio_sms_inbound.txt", "twilio_whatsapp_inbound_media.txt"])
def test_fifty_concurrent_copies_of_one_webhook_store_one_message(fixture):
    captured = load_captured(FIXTURES / fixture)
    statuses, errors = post_at_once(captured, lambda i: {})
    assert errors == []
    assert statuses == [200] * COPIES
    assert Message.objects.count() == 1
    assert Event.objects.filter(kind="message.created").count() == 1
    assert Customer.objects.count() == 1 and Identity.objects.count() == 1 and Ticket.objects.count() == 1
    assert InboundPayload.objects.filter(state=InboundPayload.State.PROCESSED).count() == COPIES
    if "media" in fixture:
        assert Message.objects.get().attachments.count() == 1


def test_fifty_concurrent_resends_with_one_idempotency_token_store_one_message():
    captured = load_captured(FIXTURES / "twilio_sms_inbound.txt")
    statuses, errors = post_at_once(captured, lambda i: {"I-Twilio-Idempotency-Token": "one-token"})
    assert errors == [] and statuses == [200] * COPIES
    assert Message.objects.count() == 1
    assert Event.objects.filter(kind="message.created").count() == 1
