"""The customer profile page and the live-chat context beside a conversation."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from livechat import conversation, useragent
from livechat.models import VisitorSession
from surveys.models import Survey
from tests.factories import inbound
from tests.livechat_helpers import ORIGIN, make_inbox
from tickets import services
from tickets.models import CustomerMerge, Identity, Team, Ticket

pytestmark = pytest.mark.django_db

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Safari/537.36")


def profile(console, customer_id):
    response = console.get(f"/console/customers/{customer_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_profile_lists_identities_with_opt_out_tickets_notes_and_organisation(console, agent):
    email = services.ingest(inbound("ada@example.com", "invoice?", subject="Invoice", sender_name="Ada"))
    customer = email.message.customer
    sms = services.ingest(inbound("+14155550101", "STOP texting", channel="sms",
                                  linked_identities=(("email", "ada@example.com"),)))
    Identity.objects.filter(channel="sms").update(opted_out_at=timezone.now())
    services.update_customer(customer, actor=agent, organisation="Analytical Engines", notes="Prefers email.")
    body = profile(console, customer.pk)
    assert 'id="profile-name">Ada<' in body and "Analytical Engines" in body and "Prefers email." in body
    assert "ada@example.com" in body and "+1 415-555-0101" in body and 'class="warn opted-out"' in body
    for result in (email, sms):
        assert f'href="/console/tickets/{result.message.ticket_id}/"' in body
    assert body.count("<tr data-ticket=") == 2


def test_merges_are_listed_and_undone_from_the_profile(console, agent):
    target = services.ingest(inbound("ada@example.com", "one", sender_name="Ada")).message.customer
    source = services.ingest(inbound("+14155550101", "two", channel="sms")).message.customer
    merge = services.merge_customers(source, target, actor=agent)
    body = profile(console, target.pk)
    assert f"Customer {source.pk} merged in by agent" in body
    assert f'action="/console/merges/{merge.pk}/undo/"' in body
    response = console.post(f"/console/merges/{merge.pk}/undo/", {"customer": target.pk})
    assert response.status_code == 302 and response["Location"] == f"/console/customers/{target.pk}/"
    assert CustomerMerge.objects.get(pk=merge.pk).undone_at is not None
    assert "undone by" in profile(console, target.pk)


def test_the_profile_shows_satisfaction_ratings(console, agent):
    result = services.ingest(inbound("ada@example.com", "help", subject="Broken"))
    ticket = Ticket.objects.get(pk=result.message.ticket_id)
    Survey.objects.create(ticket=ticket, customer=ticket.customer, channel="email", status="answered",
                          rating=2, comment="Slow answer", answered_at=timezone.now())
    body = profile(console, ticket.customer_id)
    assert "1 rating, average 2.0/5" in body and "Slow answer" in body and '<strong class="rating low">2/5</strong>' in body


def test_another_teams_customer_is_refused(client, restricted):
    other = Team.objects.create(name="Elsewhere")
    result = services.ingest(inbound("eve@example.com", "secret"))
    Ticket.objects.filter(pk=result.message.ticket_id).update(team=other)
    client.force_login(restricted)
    assert client.get(f"/console/customers/{result.message.customer_id}/").status_code == 403


def test_the_profile_page_costs_a_constant_number_of_queries(console, agent):
    result = services.ingest(inbound("ada@example.com", "one", sender_name="Ada"))
    customer_id = result.message.customer_id

    def count():
        with CaptureQueriesContext(connection) as captured:
            profile(console, customer_id)
        return len(captured)

    few = count()
    for n in range(15):
        other = services.ingest(inbound(f"+1415555{n:04d}", f"sms {n}", channel="sms")).message.customer
        services.merge_customers(other, result.message.customer, actor=agent)
        t = services.ingest(inbound(f"+1415555{n:04d}", f"again {n}", channel="sms"))
        services.set_status(Ticket.objects.get(pk=t.message.ticket_id), "solved", actor=agent)
    assert count() == few


def test_the_queue_and_search_link_to_the_profile(console):
    result = services.ingest(inbound("+14155550101", "hi", channel="sms"))
    href = f'href="/console/customers/{result.message.customer_id}/"'
    assert href in console.get("/console/").content.decode()
    assert href in console.get("/console/search/", {"q": "4155550101"}).content.decode()


# ---- live-chat context ------------------------------------------------------------------------

@pytest.mark.parametrize(("agent_string", "browser", "system"), [
    (CHROME_WINDOWS, "Chrome 131", "Windows"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", "Safari 17", "iOS"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133", "Linux"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36 Edg/131.0.2903.86", "Edge 131", "macOS"),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 "
     "Chrome/122.0.0.0 Mobile Safari/537.36", "Samsung Internet 26", "Android"),
    ("curl/8.5.0", "", ""),
])
def test_the_browser_and_system_are_read_from_the_user_agent(agent_string, browser, system):
    assert useragent.parse(agent_string) == (browser, system)


def start(client, body, user_agent=CHROME_WINDOWS):
    response = client.post("/chat/api/shop/session/", json.dumps(body), content_type="application/json",
                           headers={"Origin": ORIGIN, "User-Agent": user_agent})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_the_ticket_and_profile_show_what_the_visitor_told_and_where_they_are(client, console):
    make_inbox(prechat_enabled=True)
    token = start(client, {"page": "https://shop.example.com/", "referrer": "https://www.google.com/search?q=x"})
    start(client, {"token": token, "page": "https://shop.example.com/pricing"})
    start(client, {"token": token, "page": "https://shop.example.com/checkout"})
    start(client, {"token": token, "page": "javascript:alert(1)"})  # not a page address: not kept
    session = VisitorSession.objects.get()
    assert [p["url"] for p in session.pages] == ["https://shop.example.com/", "https://shop.example.com/pricing",
                                                 "https://shop.example.com/checkout"]
    conversation.set_contact(session, name="Grace", email="grace@example.com")
    sent = conversation.send(VisitorSession.objects.get(), "c1", "Where is my order?")
    body = console.get(f"/console/tickets/{sent.ticket_id}/").content.decode()
    for text in ("Grace · grace@example.com", 'href="https://shop.example.com/checkout"',
                 'href="https://www.google.com/search?q=x"', "Chrome 131 · Windows", "https://shop.example.com/pricing"):
        assert text in body, text
    assert "javascript:" not in body
    assert "Chrome 131 · Windows" in profile(console, sent.customer_id)


def test_an_anonymous_visitor_is_named_never_by_token(client, console):
    make_inbox()
    token = start(client, {"page": "https://shop.example.com/"})
    session = VisitorSession.objects.get()
    sent = conversation.send(session, "c1", "hello")
    page = console.get(f"/console/tickets/{sent.ticket_id}/").content.decode()
    name = page.split('id="customer-profile-link" title="Customer profile">', 1)[1].split("<", 1)[0]
    assert name.startswith("Visitor ") and len(name) == len("Visitor 1234")
    assert str(session.key) not in name and token not in page
