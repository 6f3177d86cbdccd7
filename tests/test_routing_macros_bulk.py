"""Macros (personal / team / shared, placeholders, preview = what apply does) and bulk actions
(each ticket its own transaction, a result per ticket)."""

import pytest

from routing import bulk, macros
from routing.models import Macro
from tests.factories import inbound
from tickets import services
from tickets.models import Event, Message, Team, Ticket

pytestmark = pytest.mark.django_db


def _ticket(sender="fan-1", name="Jane Doe"):
    return services.ingest(inbound(channel="fake", sender=sender, sender_name=name)).message.ticket


def test_preview_shows_exactly_what_apply_does(agent):
    ticket = _ticket()
    macro = Macro.objects.create(name="Refund done", reply="Hi {customer_first_name}, refunded. {agent_name}",
                                 status="solved", priority=2, add_tags="refund, billing", assign_to_me=True)
    shown = macros.preview(macro, Ticket.objects.get(pk=ticket.pk), agent)
    assert shown["reply"] == "Hi Jane, refunded. Agnes"
    assert shown["changes"] == ["status: Solved", "priority: High", "add tags: refund, billing", "assign to Agnes"]
    assert not Message.objects.filter(direction="outbound").exists()  # a preview changes nothing
    macros.apply(macro, ticket, agent, client_id="m-1")
    macros.apply(macro, ticket, agent, client_id="m-1")  # a double-pressed shortcut: one reply
    ticket.refresh_from_db()
    assert Message.objects.filter(direction="outbound").get().text == "Hi Jane, refunded. Agnes"
    assert (ticket.status, ticket.priority, ticket.assignee) == ("solved", 2, agent)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "refund"]


def test_a_macro_is_all_or_nothing(agent):
    ticket = services.ingest(inbound(channel="email", sender="x@example.com")).message.ticket
    macro = Macro.objects.create(name="Text them", reply="Hello", priority=3)
    from tickets.models import Identity

    Identity.objects.update(opted_out_at="2026-01-01T00:00:00Z")  # the reply will be refused
    with pytest.raises(services.ReplyRefused, match="opted out"):
        macros.apply(macro, ticket, agent)
    assert Ticket.objects.get(pk=ticket.pk).priority == 1


def test_agents_see_their_own_their_teams_and_shared_macros(agent, bob):
    team, other = Team.objects.create(name="Billing"), Team.objects.create(name="Sales")
    team.members.add(agent)
    mine = Macro.objects.create(name="Mine", owner=agent)
    Macro.objects.create(name="Bob's", owner=bob)
    ours = Macro.objects.create(name="Team", team=team)
    Macro.objects.create(name="Other team", team=other)
    shared = Macro.objects.create(name="Shared")
    assert set(macros.available(agent)) == {mine, ours, shared}


def test_bulk_assign_changes_each_ticket_in_its_own_transaction_with_a_result_each(agent, bob, restricted):
    tickets = [_ticket(sender=f"fan-{i}") for i in range(5)]
    hidden = _ticket(sender="fan-hidden")
    services.assign(hidden, team=Team.objects.create(name="Secret"))
    results = bulk.run(restricted, [t.pk for t in tickets] + [hidden.pk, 99999], "assign", str(bob.pk))
    assert [r["ok"] for r in results] == [True] * 5 + [False, False]
    assert results[5]["error"] == "Not found or not allowed."
    assert set(Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("assignee", flat=True)) == {bob.pk}
    events = Event.objects.filter(kind="ticket.updated", data__change="assignment", data__actor="rita")
    assert events.count() == 5  # one event per ticket, as for single changes


def test_bulk_status_priority_tag_and_macro_and_clear_refusals(agent):
    tickets = [_ticket(sender=f"fan-{i}") for i in range(3)]
    ids = [t.pk for t in tickets]
    assert all(r["ok"] for r in bulk.run(agent, ids, "status", "pending"))
    assert all(r["ok"] for r in bulk.run(agent, ids, "priority", "3"))
    assert all(r["ok"] for r in bulk.run(agent, ids, "add_tag", "wave-1"))
    macro = Macro.objects.create(name="Close", status="solved")
    assert all(r["ok"] for r in bulk.run(agent, ids, "macro", str(macro.pk)))
    rows = set(Ticket.objects.filter(pk__in=ids).values_list("status", "priority"))
    assert rows == {("solved", 3)}
    assert Ticket.objects.filter(pk__in=ids, tags__name="wave-1").count() == 3
    with pytest.raises(bulk.BulkRefused, match="Unknown status"):
        bulk.run(agent, ids, "status", "asleep")
    with pytest.raises(bulk.BulkRefused, match="Select at least one ticket"):
        bulk.run(agent, [], "status", "open")


def test_one_failing_ticket_does_not_stop_the_others(agent):
    good, bad = _ticket(sender="fan-good"), services.ingest(inbound(channel="email", sender="b@example.com")).message.ticket
    from tickets.models import Identity

    Identity.objects.filter(channel="email").update(opted_out_at="2026-01-01T00:00:00Z")
    macro = Macro.objects.create(name="Say hi", reply="Hi")
    results = bulk.run(agent, [bad.pk, good.pk], "macro", str(macro.pk))
    assert [r["ok"] for r in results] == [False, True] and "opted out" in results[0]["error"]


def test_the_console_endpoints(console, agent):
    ticket = _ticket()
    macro = Macro.objects.create(name="Thanks", reply="Thanks {customer_name}", shortcut="1")
    listed = console.get(f"/console/routing/tickets/{ticket.pk}/macros/").json()["macros"]
    assert listed == [{"id": macro.pk, "name": "Thanks", "shortcut": "1", "reply": "Thanks Jane Doe", "changes": []}]
    assert console.post(f"/console/routing/tickets/{ticket.pk}/macros/{macro.pk}/").json()["ok"] is True
    answer = console.post("/console/routing/bulk/", {"tickets": str(ticket.pk), "action": "status", "value": "open"})
    assert answer.json() == {"ok": True, "results": [{"ticket": ticket.pk, "ok": True}]}
    refused = console.post("/console/routing/bulk/", {"tickets": str(ticket.pk), "action": "explode"})
    assert refused.status_code == 400 and "Unknown bulk action" in refused.json()["error"]
    bad_time = console.post(f"/console/routing/tickets/{ticket.pk}/snooze/", {"until": "soon"})
    assert bad_time.status_code == 400
    assert console.post(f"/console/routing/tickets/{ticket.pk}/snooze/", {"until": "2099-01-01T09:00"}).json()["ok"]
