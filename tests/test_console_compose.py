"""The reply box's channel: where the customer last wrote on THIS ticket, even when the page's
history window holds only other tickets' messages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import inbound
from tickets import services
from tickets.console import compose
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_the_default_is_this_tickets_last_inbound_channel_not_the_customers_latest(console, monkeypatch):
    email = services.ingest(inbound("ada@example.com", "about my invoice", subject="Invoice"))
    ticket = Ticket.objects.get(pk=email.message.ticket_id)
    # Later the same customer (the provider vouches for the link) texts a lot about something else.
    monkeypatch.setattr("tickets.console.queries.HISTORY_SIZE", 5)
    for n in range(6):
        services.ingest(inbound("+14155550101", f"text {n}", channel="sms", linked_identities=(("email", "ada@example.com"),)))
    response = console.get(f"/console/tickets/{ticket.pk}/")
    loaded = [m for b in response.context["blocks"] for m in b.messages]
    assert loaded and all(m.ticket_id != ticket.pk for m in loaded)  # none of this ticket's messages is loaded
    assert response.context["default_channel"] == "email"


def test_the_fallback_costs_one_query_and_none_when_the_page_has_the_message():
    result = services.ingest(inbound("ada@example.com", "hi"))
    ticket = Ticket.objects.get(pk=result.message.ticket_id)
    with CaptureQueriesContext(connection) as captured:
        assert compose.default_channel(ticket, [result.message]) == "email"
    assert len(captured) == 0
    with CaptureQueriesContext(connection) as captured:
        assert compose.default_channel(ticket, []) == "email"
    assert len(captured) == 1
