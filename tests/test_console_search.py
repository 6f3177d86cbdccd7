"""Search as agents type it: phone numbers in any format find the customer; "#123" opens the
ticket when the agent may see it, a bare "123" only when nothing else matched."""

import pytest

from tests.factories import inbound
from tickets import services
from tickets.models import Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def texter():
    return services.ingest(inbound("+14155550101", "my parcel?", channel="sms", sender_name="")).message.customer


@pytest.mark.parametrize("typed", ["+1 415 555 0101", "(415) 555-0101", "4155550101", "415.555.0101",
                                   "+1 (415) 555-0101", "1-415-555-0101"])
def test_a_phone_number_in_any_format_finds_the_customer(console, settings, texter, typed):
    settings.HELPDESK_DEFAULT_REGION = "US"
    results = console.get("/console/search/", {"q": typed}).context["results"]
    assert [c.pk for c in results.customers] == [texter.pk], typed


def test_without_a_default_region_the_digits_still_find_the_number(console, settings, texter):
    settings.HELPDESK_DEFAULT_REGION = None
    for typed in ("(415) 555-0101", "415 555 0101"):
        assert [c.pk for c in console.get("/console/search/", {"q": typed}).context["results"].customers] == [texter.pk]
    assert not console.get("/console/search/", {"q": "(415) 555-0199"}).context["results"].customers


def test_hash_number_opens_the_ticket_when_the_agent_may_see_it(client, agent, restricted):
    ticket_id = services.ingest(inbound("ada@example.com", "hello")).message.ticket_id
    hidden = services.ingest(inbound("mallory@example.com", "secret")).message.ticket
    services.assign(hidden, team=Team.objects.create(name="Billing"), actor=agent)
    client.force_login(restricted)
    response = client.get("/console/search/", {"q": f"#{ticket_id}"})
    assert response.status_code == 302 and response["Location"] == f"/console/tickets/{ticket_id}/"
    refused = client.get("/console/search/", {"q": f"#{hidden.pk}"})  # no hint that it exists
    assert refused.status_code == 200 and refused.context["results"].empty
    assert client.get("/console/search/", {"q": "#99999"}).status_code == 200


def test_a_bare_number_opens_the_ticket_unless_something_else_matches_it(console):
    first = services.ingest(inbound("ada@example.com", "hello")).message.ticket_id
    assert console.get("/console/search/", {"q": str(first)}).status_code == 302
    services.ingest(inbound("bob@example.com", f"my order number is {first}"))
    listed = console.get("/console/search/", {"q": str(first)})
    assert listed.status_code == 200 and listed.context["results"].tickets[0].pk == first
