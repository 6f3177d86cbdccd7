"""The tickets endpoints: filters, cursor pagination, messages, and every write through services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import inbound
from tests.fakes import channel as testing
from tests.fakes.api import ApiClient, create_token
from tickets import services
from tickets.models import Customer, Event, Identity, Message, Team, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(agent):
    return ApiClient(create_token(agent))


@pytest.fixture
def ticket():
    return services.ingest(inbound("ada@example.com", "My order is late", channel="fake", subject="Order 42")).message.ticket


@pytest.fixture
def other_agent(django_user_model):
    from tickets.management.commands.seed_demo import ensure_agents_group

    user = django_user_model.objects.create_user("bert", password="pw")
    user.groups.add(ensure_agents_group())
    return user


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_read_a_ticket(api, ticket):
    response = api.get(f"/tickets/{ticket.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == ticket.pk and body["reference"] == f"#{ticket.pk}"
    assert (body["subject"], body["status"], body["channel"], body["customer"]) == (
        "Order 42", "new", "fake", ticket.customer_id)
    assert body["assignee"] is None and body["waiting_since"] is not None


def test_a_missing_ticket_is_a_machine_readable_404(api):
    response = api.get("/tickets/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_list_filters(api, agent, other_agent):
    a = services.ingest(inbound("a@example.com", "one", channel="fake")).message.ticket
    b = services.ingest(inbound("+14155550100", "two", channel="sms", adapter="fakesms")).message.ticket
    c = services.ingest(inbound("c@example.com", "three", channel="fake")).message.ticket
    services.assign(a, assignee=agent, actor=agent)
    services.assign(b, assignee=other_agent, actor=agent)
    services.set_status(c, "solved", actor=agent)

    assert set(ids(api.get("/tickets"))) == {a.pk, b.pk, c.pk}
    assert ids(api.get("/tickets", {"status": "solved"})) == [c.pk]
    assert set(ids(api.get("/tickets", {"status": ["new", "solved"]}))) == {a.pk, b.pk, c.pk}
    assert ids(api.get("/tickets", {"assignee": "me"})) == [a.pk]
    assert ids(api.get("/tickets", {"assignee": str(other_agent.pk)})) == [b.pk]
    assert ids(api.get("/tickets", {"assignee": "none"})) == [c.pk]
    assert ids(api.get("/tickets", {"channel": "sms"})) == [b.pk]
    assert ids(api.get("/tickets", {"customer": a.customer_id})) == [a.pk]

    Ticket.objects.filter(pk=a.pk).update(updated_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert set(ids(api.get("/tickets", {"updated_since": since}))) == {b.pk, c.pk}


def test_invalid_filters_are_4xx_with_field_errors(api):
    response = api.get("/tickets", {"status": "bogus"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request" and body["errors"][0]["loc"][-1] in ("status", 0)
    assert api.get("/tickets", {"assignee": "someone"}).status_code == 422
    assert api.get("/tickets", {"updated_since": "yesterday"}).status_code == 422
    assert api.get("/tickets", {"limit": 0}).status_code == 422
    assert api.get("/tickets/abc").status_code == 422


@pytest.mark.parametrize("order", ["updated_at", "-updated_at"])
def test_cursor_pagination_visits_every_ticket_once(api, order):
    created = [services.ingest(inbound(f"p{i}@example.com", "hi", channel="fake")).message.ticket.pk for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, "order": order, **({"cursor": cursor} if cursor else {})}
        response = api.get("/tickets", params)
        seen += ids(response)
        cursor, pages = response.json()["next_cursor"], pages + 1
        if cursor is None:
            break
    assert sorted(seen) == sorted(created) and len(seen) == 7 and pages == 3
    expected = sorted(created) if order == "updated_at" else sorted(created, reverse=True)
    assert seen == expected


def test_a_ticket_updated_while_paging_is_not_skipped_in_ascending_order(api, agent):
    tickets = [services.ingest(inbound(f"s{i}@example.com", "hi", channel="fake")).message.ticket for i in range(4)]
    first = api.get("/tickets", {"limit": 2, "order": "updated_at"})
    assert ids(first) == [tickets[0].pk, tickets[1].pk]
    services.set_status(tickets[0], "pending", actor=agent)  # moves behind the cursor
    rest = api.get("/tickets", {"limit": 10, "order": "updated_at", "cursor": first.json()["next_cursor"]})
    assert ids(rest) == [tickets[2].pk, tickets[3].pk, tickets[0].pk]


def test_a_garbage_cursor_is_a_400(api):
    response = api.get("/tickets", {"cursor": "bm9wZQ"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"
    # A cursor from another ordering is refused too.
    services.ingest(inbound("x@example.com", "a", channel="fake"))
    services.ingest(inbound("y@example.com", "b", channel="fake"))
    cursor = api.get("/tickets", {"limit": 1}).json()["next_cursor"]
    assert api.get("/tickets", {"cursor": cursor, "order": "updated_at"}).status_code == 400


def test_a_tickets_messages_oldest_first_with_notes(api, agent, ticket):
    services.note(ticket, author=agent, text="internal")
    services.ingest(inbound("ada@example.com", "second", channel="fake", hint={"ticket_id": ticket.pk}))
    response = api.get(f"/tickets/{ticket.pk}/messages", {"limit": 2})
    page1 = response.json()
    assert [m["text"] for m in page1["items"]] == ["My order is late", "internal"]
    assert page1["items"][1]["direction"] == "note" and page1["items"][1]["author"] == agent.pk
    page2 = api.get(f"/tickets/{ticket.pk}/messages", {"cursor": page1["next_cursor"]}).json()
    assert [m["text"] for m in page2["items"]] == ["second"] and page2["next_cursor"] is None


def test_send_a_message_is_queued_then_delivered(api, ticket, run_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/tickets/{ticket.pk}/messages", {"text": "On its way!", "client_id": "crm-1"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["direction"], body["status"], body["channel"], body["client_id"]) == (
        "outbound", "queued", "fake", "crm-1")
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    assert testing.outbox == [("fake", body["id"], "On its way!")]
    assert api.get(f"/tickets/{ticket.pk}/messages").json()["items"][-1]["status"] == "sent"
    assert Ticket.objects.get(pk=ticket.pk).status == "open"


def test_a_refused_message_is_a_422_with_the_reason(api, ticket):
    response = api.post(f"/tickets/{ticket.pk}/messages", {"text": "hi", "channel": "pigeon"})
    assert response.status_code == 422
    assert response.json()["code"] == "refused" and "pigeon" in response.json()["message"]
    response = api.post(f"/tickets/{ticket.pk}/messages", {"text": "  "})
    assert response.status_code == 422 and response.json()["code"] == "refused"
    assert not Message.objects.filter(direction="outbound").exists()


def test_a_message_over_newer_customer_activity_is_held(api, ticket):
    seen = Event.objects.order_by("-seq").first().seq
    services.ingest(inbound("ada@example.com", "are you there?", channel="fake", hint={"ticket_id": ticket.pk}))
    response = api.post(f"/tickets/{ticket.pk}/messages", {"text": "hello", "seen_seq": seen})
    assert response.status_code == 409 and response.json()["code"] == "stale"
    assert not Message.objects.filter(direction="outbound").exists()


def test_add_a_note(api, agent, ticket):
    response = api.post(f"/tickets/{ticket.pk}/notes", {"text": "call them tomorrow"})
    assert response.status_code == 201
    note = Message.objects.get(pk=response.json()["id"])
    assert (note.direction, note.text, note.author) == ("note", "call them tomorrow", agent)
    assert Event.objects.filter(kind="message.created", message=note, public=False).exists()
    assert api.post(f"/tickets/{ticket.pk}/notes", {"text": ""}).status_code == 422


def test_assign_and_unassign(api, agent, other_agent, ticket, django_user_model):
    team = Team.objects.create(name="Billing")
    response = api.post(f"/tickets/{ticket.pk}/assign", {"assignee": other_agent.pk, "team": team.pk})
    assert response.status_code == 200 and response.json()["assignee"] == other_agent.pk
    assert response.json()["team"] == team.pk
    event = Event.objects.filter(kind="ticket.updated").order_by("-seq").first()
    assert event.data["change"] == "assignment" and event.data["assignee"] == other_agent.pk
    assert api.post(f"/tickets/{ticket.pk}/assign", {"assignee": None}).json()["assignee"] is None

    outsider = django_user_model.objects.create_user("visitor")
    response = api.post(f"/tickets/{ticket.pk}/assign", {"assignee": outsider.pk})
    assert response.status_code == 422 and response.json()["code"] == "unknown_agent"
    assert api.post(f"/tickets/{ticket.pk}/assign", {"assignee": None, "team": 9999}).status_code == 422
    assert api.post(f"/tickets/{ticket.pk}/assign", {}).status_code == 422  # assignee is required


def test_change_status_and_priority(api, ticket):
    response = api.post(f"/tickets/{ticket.pk}/status", {"status": "pending"})
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert Ticket.objects.get(pk=ticket.pk).status == "pending"
    response = api.post(f"/tickets/{ticket.pk}/status", {"status": "archived"})
    assert response.status_code == 422 and response.json()["errors"][0]["loc"][-1] == "status"
    response = api.post(f"/tickets/{ticket.pk}/priority", {"priority": 3})
    assert response.status_code == 200 and Ticket.objects.get(pk=ticket.pk).priority == 3
    assert api.post(f"/tickets/{ticket.pk}/priority", {"priority": 9}).status_code == 422


def test_malformed_json_is_a_4xx_not_a_500(api, ticket):
    response = api.post(f"/tickets/{ticket.pk}/notes", b"{not json")
    assert 400 <= response.status_code < 500
    assert "code" in response.json()
    response = api.post(f"/tickets/{ticket.pk}/notes", {"text": "nul \x00 byte"})
    assert response.status_code == 422


def test_open_a_ticket_for_a_known_customer_sends_the_first_message(api, agent, ticket, run_tasks,
                                                                   django_capture_on_commit_callbacks):
    customer = ticket.customer
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/tickets", {"customer": customer.pk, "subject": "Your refund",
                                         "text": "We refunded you.", "internal_note": "approved by Sam",
                                         "priority": 2, "assignee": agent.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    new = Ticket.objects.get(pk=body["id"])
    assert (new.customer, new.subject, new.channel, new.priority, new.assignee, new.status) == (
        customer, "Your refund", "fake", 2, agent, "open")
    assert [(m.direction, m.text) for m in new.messages.order_by("pk")] == [
        ("outbound", "We refunded you."), ("note", "approved by Sam")]
    assert Event.objects.filter(kind="ticket.created", ticket=new).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    assert testing.outbox == [("fake", new.messages.get(direction="outbound").pk, "We refunded you.")]


def test_open_a_ticket_to_a_new_address_creates_the_customer(api):
    response = api.post("/tickets", {"to": {"channel": "sms", "address": "+1 415 555 0199", "name": "Grace"},
                                     "text": "Your table is ready"})
    assert response.status_code == 201, response.content
    identity = Identity.objects.get(channel="sms", address="+14155550199")
    assert identity.customer.name == "Grace"
    assert Ticket.objects.get(pk=response.json()["id"]).customer == identity.customer


def test_opening_a_ticket_is_all_or_nothing(api):
    customers = Customer.objects.count()
    response = api.post("/tickets", {"to": {"channel": "pigeon", "address": "12345"}, "text": "hi"})
    assert response.status_code == 422 and response.json()["code"] == "refused"
    assert Customer.objects.count() == customers and not Ticket.objects.exists()
    assert api.post("/tickets", {"text": "to nobody"}).status_code == 422
    response = api.post("/tickets", {"to": {"channel": "sms", "address": "not a number"}, "text": "x"})
    assert response.status_code == 422
    assert api.post("/tickets", {"customer": 424242, "text": "x"}).status_code == 404
    assert not Ticket.objects.exists()


def test_updated_since_with_an_offset_postgresql_refuses_is_answered_not_a_500(api):
    """ISO 8601 allows offsets PostgreSQL does not (+20:36): the instant is compared in UTC.
    (Found by the schema fuzzer on PostgreSQL.)"""
    response = api.get("/tickets?updated_since=2026-01-12T07:12:29%2B20:36")
    assert response.status_code == 200, response.content
    response = api.get("/tickets?updated_since=0001-01-01T00:00:00%2B20:00")  # before year 1 in UTC
    assert response.status_code == 400 and response.json()["code"] == "bad_datetime", response.content
