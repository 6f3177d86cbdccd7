"""Saved views (saved_views/) and the queue's filter bar (tickets/console/filters.py): filters
that narrow and sort the queue, views saved from them (personal, or shared by a team lead),
their counts in the sidebar in one query whatever their number, and who may change them."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saved_views.models import SavedView
from tests.factories import inbound
from tickets import services
from tickets.console.filters import QueueFilter, combined, of_view
from tickets.models import Team, Ticket

pytestmark = pytest.mark.django_db


def new_ticket(sender="ada@example.com", text="hello", **kwargs):
    return Ticket.objects.get(pk=services.ingest(inbound(sender, text, **kwargs)).message.ticket_id)


def ids(response):
    return [t.pk for t in response.context["tickets"]]


def sidebar(response):
    return {v.label: v.count for v in response.context["source_views"]}


@pytest.fixture
def tickets(agent, bob):
    team = Team.objects.create(name="Billing")
    email = new_ticket("a@example.com", "invoice", subject="Invoice")
    sms = new_ticket("+14155550101", "text", channel="sms")
    urgent = new_ticket("b@example.com", "down!", subject="Down")
    services.set_priority(urgent, Ticket.Priority.URGENT, actor=agent)
    services.assign(urgent, assignee=agent, team=team, actor=agent)
    services.set_tags(email, ["vip", "billing"], actor=agent)
    solved = new_ticket("c@example.com", "thanks")
    services.set_status(solved, "solved", actor=agent)
    old = new_ticket("d@example.com", "old one")
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    return {"email": email, "sms": sms, "urgent": urgent, "solved": solved, "old": old, "team": team}


def test_bad_filter_values_are_dropped_not_errors():
    query = QueryDict("status=open&status=bogus&team=x&priority=9&assignee=%3Bdrop&created=2y&sort=evil&tag=VIP")
    assert QueueFilter.parse(query) == QueueFilter(status=("open",), tag="vip")
    assert QueueFilter.parse({}).empty and QueueFilter.parse({"status": "pending"}).status == ("pending",)


def test_the_filter_bar_narrows_and_sorts_the_queue(console, agent, tickets):
    t = tickets
    assert ids(console.get("/console/", {"channel": "sms"})) == [t["sms"].pk]
    assert ids(console.get("/console/", {"tag": "vip"})) == [t["email"].pk]
    assert ids(console.get("/console/", {"priority": "3"})) == [t["urgent"].pk]
    assert ids(console.get("/console/", {"assignee": "me"})) == [t["urgent"].pk]
    assert ids(console.get("/console/", {"team": t["team"].pk})) == [t["urgent"].pk]
    assert t["old"].pk not in ids(console.get("/console/", {"created": "7d"}))
    assert ids(console.get("/console/", {"status": "solved"})) == [t["solved"].pk]
    assert ids(console.get("/console/", {"view": "solved", "channel": "email"})) == [t["solved"].pk]
    assert ids(console.get("/console/", {"sort": "newest"})) == [t["urgent"].pk, t["sms"].pk, t["email"].pk, t["old"].pk]
    assert ids(console.get("/console/", {"sort": "priority"}))[0] == t["urgent"].pk
    # On top of a built-in view: Unassigned + sms.
    assert ids(console.get("/console/", {"view": "unassigned", "channel": "sms"})) == [t["sms"].pk]


def test_save_view_saves_what_the_agent_sees_and_it_opens_with_its_count(console, agent, tickets):
    page = console.get("/console/", {"view": "mine", "priority": "3"})
    assert page.context["save_filters"] == {"assignee": "me", "priority": 3}
    response = console.post("/console/views/", {"name": "My urgent", "assignee": "me", "priority": "3"})
    view = SavedView.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/?view=saved:{view.pk}"
    assert view.owner == agent and not view.shared and view.filters == {"assignee": "me", "priority": 3}
    page = console.get("/console/", {"view": f"saved:{view.pk}"})
    assert ids(page) == [tickets["urgent"].pk] and sidebar(page) == {"My urgent": 1}
    assert page.context["current_view"].extra["mine"]
    # A new matching ticket counts at once (the live queue re-reads this fragment on events).
    services.set_priority(tickets["email"], Ticket.Priority.URGENT, actor=agent)
    services.assign(tickets["email"], assignee=agent, actor=agent)
    assert sidebar(console.get("/console/", {"fragment": "1"})) == {"My urgent": 2}


def test_a_view_saved_without_filters_is_all_open_tickets(console, agent, tickets):
    """"Save view" on *All open* with nothing picked saves no filters: it was a server error
    (no filter to take the order from), found by the tap-target browser test."""
    console.post("/console/views/", {"name": "Everything open"})
    view = SavedView.objects.get()
    assert view.filters == {}
    page = console.get("/console/", {"view": f"saved:{view.pk}"})
    assert page.status_code == 200
    open_ones = [tickets[k].pk for k in ("email", "sms", "urgent", "old")]
    assert sorted(ids(page)) == sorted(open_ones)
    assert sidebar(page) == {"Everything open": 4}


def test_a_shared_view_change_tells_every_console_and_a_personal_one_its_owners(
        agent, monkeypatch, django_capture_on_commit_callbacks):
    """The sidebars re-read their views on this push (console.js, panes.js): a view shared,
    renamed, unshared or deleted reaches other agents' consoles live."""
    import json

    from saved_views import services as views
    from tickets import doorbell

    pushed = []
    monkeypatch.setattr(doorbell, "push", lambda groups, message: pushed.append(
        (groups, json.loads(message["frame"]).get("views_changed"))))
    agent.user_permissions.add(Permission.objects.get(codename="share_savedview"))
    agent = type(agent).objects.get(pk=agent.pk)  # permissions are cached per instance
    with django_capture_on_commit_callbacks(execute=True):
        mine = views.create(agent, name="Mine only", filters=QueueFilter(channel="sms"))
    with django_capture_on_commit_callbacks(execute=True):
        shared = views.create(agent, name="Team sms", filters=QueueFilter(channel="sms"), shared=True)
    with django_capture_on_commit_callbacks(execute=True):
        views.update(shared, actor=agent, name="Team texts", shared=True)
    with django_capture_on_commit_callbacks(execute=True):
        views.update(shared, actor=agent, name="Team texts", shared=False)  # gone from the others'
    with django_capture_on_commit_callbacks(execute=True):
        views.delete(mine, actor=agent)
    everyone, own = (["agents"], True), ([f"user-{agent.pk}"], True)
    assert pushed == [own, everyone, everyone, everyone, own]


def test_a_view_needs_a_name_and_sharing_needs_the_team_lead_permission(console, agent, tickets):
    refused = console.post("/console/views/", {"name": "  "})
    assert refused.status_code == 302 and not SavedView.objects.exists()
    assert console.post("/console/views/", {"name": "All sms", "channel": "sms", "shared": "on"}).status_code == 403
    agent.user_permissions.add(Permission.objects.get(codename="share_savedview"))
    assert console.post("/console/views/", {"name": "All sms", "channel": "sms", "shared": "on"}).status_code == 302
    assert SavedView.objects.get().shared


def test_personal_views_are_their_owners_shared_ones_everyones_and_only_owners_change_them(client, agent, bob, tickets):
    mine = SavedView.objects.create(owner=agent, name="Agnes only", filters={"channel": "sms"})
    shared = SavedView.objects.create(owner=agent, name="Team sms", filters={"channel": "sms"}, shared=True)
    client.force_login(bob)
    assert sidebar(client.get("/console/")) == {"Team sms": 1}
    assert client.get("/console/", {"view": f"saved:{mine.pk}"}).context["view"] == "open"  # not his: ignored
    assert client.post(f"/console/views/{shared.pk}/", {"name": "Hijacked"}).status_code == 403
    assert client.post(f"/console/views/{shared.pk}/delete/").status_code == 403
    client.force_login(agent)
    assert client.post(f"/console/views/{mine.pk}/", {"name": "Renamed", "use_current": "on",
                                                      "tag": "vip"}).status_code == 302
    mine.refresh_from_db()
    assert mine.name == "Renamed" and mine.filters == {"tag": "vip"}
    client.post(f"/console/views/{mine.pk}/delete/")
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Team sms"]


def test_restricted_agents_count_only_tickets_they_may_see_in_shared_views(client, agent, restricted, tickets):
    SavedView.objects.create(owner=agent, name="Urgent", filters={"priority": 3}, shared=True)
    client.force_login(restricted)
    assert sidebar(client.get("/console/")) == {"Urgent": 0}  # the urgent ticket is Billing's


def sidebar_queries(console):
    with CaptureQueriesContext(connection) as captured:
        assert console.get("/console/").status_code == 200
    return len(captured)


def test_the_sidebar_counts_every_saved_view_in_one_query(console, agent, tickets, django_assert_num_queries):
    """Views on status/channel/inbox/team/assignee are counted from the built-in counts' GROUP
    BY (no query); the rest share one conditional-COUNT query. Both ways agree with the queue."""
    SavedView.objects.create(owner=agent, name="v0", filters={"channel": "sms"})
    SavedView.objects.create(owner=agent, name="v1", filters={"tag": "vip"})
    two = sidebar_queries(console)
    for n, filters in enumerate([{"priority": 3}, {"status": ["solved"]}, {"created": "7d"},
                                 {"assignee": "me", "team": tickets["team"].pk}, {"sort": "newest"},
                                 {"assignee": "none", "status": ["new", "open"]}]):
        SavedView.objects.create(owner=agent, name=f"v{n + 2}", filters=filters)
    with django_assert_num_queries(two):
        page = console.get("/console/")
    counts = sidebar(page)
    assert counts == {"v0": 1, "v1": 1, "v2": 1, "v3": 1, "v4": 3, "v5": 1, "v6": 4, "v7": 3}
    for view in SavedView.objects.all():
        assert len(ids(console.get("/console/", {"view": f"saved:{view.pk}"}))) == counts[view.name], view.filters


def test_a_built_in_view_becomes_filters_when_saved():
    assert combined(of_view("mine"), {}, {"channel": "email"}).params() == {"assignee": "me", "channel": "email"}
    assert combined(of_view("team:4"), {"tag": "vip"}, {"tag": "bug"}).params() == {"team": 4, "tag": "bug"}
    assert of_view("open") == {}
