"""Notifications (notifications/): who is told about what, only about tickets they may see,
once per event, pushed live to their consoles; read one, a ticket's or all; pruned when old."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications import services as notifications
from notifications.models import Notification
from notifications.sinks import on_event
from tests.factories import inbound
from tickets import doorbell, events, services
from tickets.models import Event, Team, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(monkeypatch):
    """Every per-agent push, as (groups, message), instead of going to the channel layer."""
    sent = []
    monkeypatch.setattr(doorbell, "push", lambda groups, message: sent.append((list(groups), message)))
    return sent


@pytest.fixture
def sink(django_capture_on_commit_callbacks):
    """Run a change with its after-commit callbacks (the sinks, ours included)."""
    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()
    return run


def new_ticket(sender="ada@example.com", text="hello", **kwargs):
    return Ticket.objects.get(pk=services.ingest(inbound(sender, text, **kwargs)).message.ticket_id)


def kinds(user):
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_a_mention_notifies_the_agent_named(sink, agent, bob, pushed):
    ticket = new_ticket()
    sink(lambda: services.note_with_mentions(ticket, author=agent, text="@bob can you look?"))
    note = Notification.objects.get(user=bob)
    assert note.kind == "mention" and note.ticket_id == ticket.pk and note.actor == "Agnes"
    assert kinds(agent) == []
    [item] = notifications.recent(bob)
    assert item["text"] == "@bob can you look?" and item["subject"] == ticket.subject and not item["read"]


def test_assignment_by_someone_else_notifies_the_assignee_but_taking_a_ticket_does_not(sink, agent, bob, pushed):
    ticket = new_ticket()
    sink(lambda: services.assign(ticket, assignee=bob, actor=agent))
    assert kinds(bob) == ["assigned"]
    team = Team.objects.create(name="Support")
    sink(lambda: services.assign(ticket, assignee=bob, team=team, actor=agent))  # only the team changed
    sink(lambda: services.assign(ticket, assignee=agent, actor=agent))  # took it themselves
    assert kinds(bob) == ["assigned"] and kinds(agent) == []
    sink(lambda: services.assign(ticket, assignee=bob, actor=None))  # a rule or auto-assignment
    assert kinds(bob) == ["assigned", "assigned"]


def test_a_customer_reply_notifies_the_assignee_only(sink, agent, bob, pushed):
    ticket = new_ticket("ada@example.com", "first")
    sink(lambda: services.ingest(inbound("ada@example.com", "nobody has it yet")))
    assert not Notification.objects.exists()  # unassigned: the queue shows it, nobody is pinged
    services.assign(ticket, assignee=bob, actor=agent)
    sink(lambda: services.reply(ticket, author=bob, text="on it"))  # our own reply: nothing
    assert kinds(bob) == []
    sink(lambda: services.ingest(inbound("ada@example.com", "any news?")))
    assert kinds(bob) == ["reply"]
    assert notifications.recent(bob)[0]["text"] == "any news?"


def test_sla_warnings_breaches_and_low_ratings_notify_whom_their_event_names(sink, agent, bob, pushed):
    ticket = new_ticket()

    def record(kind, data):
        with transaction.atomic():
            events.record(kind, ticket=ticket, data=data)

    sink(lambda: record("sla.warning", {"ticket": ticket.pk, "target": "first_reply", "due": "2026-01-01T10:00:00+00:00",
                                        "notify": [agent.pk, bob.pk]}))
    sink(lambda: record("sla.breached", {"ticket": ticket.pk, "target": "first_reply", "notify": [bob.pk]}))
    sink(lambda: record("csat.rated", {"ticket": ticket.pk, "rating": 1, "low": True, "notify": bob.pk}))
    sink(lambda: record("csat.rated", {"ticket": ticket.pk, "rating": 5, "low": False}))
    assert kinds(agent) == ["sla_warning"]
    assert kinds(bob) == ["low_csat", "sla_breached", "sla_warning"]
    texts = {n["kind"]: n["text"] for n in notifications.recent(bob)}
    assert texts["low_csat"] == "Rated 1/5" and texts["sla_warning"] == "Target: first_reply"


def test_only_agents_who_may_see_the_ticket_are_notified_and_shown_it(sink, agent, restricted, pushed):
    support = Team.objects.get(name="Support")
    billing = Team.objects.create(name="Billing")
    hidden = new_ticket("mallory@example.com")
    services.assign(hidden, team=billing, actor=agent)
    sink(lambda: services.note_with_mentions(hidden, author=agent, text="@rita look"))  # she cannot see it
    ticket = new_ticket("ada@example.com")
    sink(lambda: services.assign(ticket, assignee=restricted, team=support, actor=agent))
    assert kinds(restricted) == ["assigned"] and notifications.unread_count(restricted) == 1
    # The ticket moves to a team she is not in: it drops out of her list and her count.
    services.assign(ticket, assignee=None, team=billing, actor=agent)
    assert notifications.recent(restricted) == [] and notifications.unread_count(restricted) == 0
    # The bell's plain-SQL count is the list's rows, for a restricted agent and for everyone.
    for user in (restricted, agent):
        Notification.objects.create(user=user, kind="reply", ticket=ticket, seq=900 + user.pk)
        Notification.objects.create(user=user, kind="reply", ticket=hidden, seq=950 + user.pk)
        assert notifications.unread_count(user) == len(notifications.recent(user, unread_only=True))
    assert notifications.unread_count(agent) == 2 and notifications.unread_count(restricted) == 0
    Team.objects.get(name="Support").members.add(restricted)
    services.assign(ticket, team=support, actor=agent)
    restricted = type(restricted).objects.get(pk=restricted.pk)  # fresh: teams are cached on the user
    assert notifications.unread_count(restricted) == 2 == len(notifications.recent(restricted, unread_only=True))


def test_each_event_notifies_once_however_often_the_sink_runs(agent, bob, pushed):
    ticket = new_ticket()
    services.assign(ticket, assignee=bob, actor=agent)
    seqs = list(Event.objects.filter(kind="ticket.updated").values_list("seq", flat=True))
    on_event(seqs)
    on_event(seqs)
    assert Notification.objects.filter(user=bob).count() == 1


def test_new_notifications_are_pushed_to_the_agents_own_group_with_the_unread_count(sink, agent, bob, pushed):
    ticket = new_ticket(subject="Refund")
    sink(lambda: services.assign(ticket, assignee=bob, actor=agent))
    [(groups, message)] = pushed
    assert groups == [events.user_group(bob.pk)] and message["type"] == "user.notice"
    import json

    frame = json.loads(message["frame"])
    assert frame["type"] == "notice" and frame["app"] == "notifications" and frame["unread"] == 1
    [item] = frame["items"]
    assert item["kind"] == "assigned" and item["ticket"] == ticket.pk and item["subject"] == "Refund"
    assert item["url"] == f"/console/notifications/{item['id']}/" and item["actor"] == "Agnes"


def test_the_sink_reads_the_log_once_and_writes_nothing_when_nobody_is_told(agent):
    new_ticket()
    seqs = list(Event.objects.values_list("seq", flat=True))
    with CaptureQueriesContext(connection) as captured:
        on_event(seqs)
    # The new events, then (a customer wrote) the ticket's assignee: two plain statements.
    assert len(captured) == 2 and not Notification.objects.exists()
    others = [seq for seq, kind in Event.objects.values_list("seq", "kind") if kind != "message.created"]
    with CaptureQueriesContext(connection) as captured:
        on_event(others)
    assert len(captured) == 1, [q["sql"] for q in captured]  # no customer message, no assignee to read


def test_the_list_reads_a_constant_number_of_queries(client, agent, bob, pushed, django_assert_num_queries):
    client.force_login(bob)
    ticket = new_ticket()
    Notification.objects.create(user=bob, kind="assigned", ticket=ticket, seq=1)
    with CaptureQueriesContext(connection) as captured:
        client.get("/console/notifications/recent/")
    few = len(captured)
    for n in range(2, 40):
        other = new_ticket(f"c{n}@example.com")
        message = other.messages.first()
        Notification.objects.create(user=bob, kind="reply", ticket=other, message=message, seq=n)
    with django_assert_num_queries(few):
        response = client.get("/console/notifications/recent/")
    assert response.json()["unread"] == 39 and len(response.json()["items"]) == notifications.LIST_SIZE


def test_mark_one_a_tickets_or_all_read_and_opening_one_reads_it(client, bob):
    client.force_login(bob)
    a, b = new_ticket("a@example.com"), new_ticket("b@example.com")
    first = Notification.objects.create(user=bob, kind="assigned", ticket=a, seq=1)
    Notification.objects.create(user=bob, kind="reply", ticket=a, seq=2)
    Notification.objects.create(user=bob, kind="reply", ticket=b, seq=3)
    response = client.get(f"/console/notifications/{first.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/console/tickets/{a.pk}/"
    assert client.post("/console/notifications/read/", {"ticket": a.pk}).json() == {"ok": True, "marked": 1, "unread": 1}
    assert client.post("/console/notifications/read/", {"all": "1"}).json()["unread"] == 0
    bad = client.post("/console/notifications/read/", {"ids": "x"})
    assert bad.status_code == 400 and "integers" in bad.json()["error"]
    assert client.post("/console/notifications/read/", {}).status_code == 400


def test_the_bell_shows_the_unread_count_on_every_console_page(client, bob):
    client.force_login(bob)
    ticket = new_ticket()
    Notification.objects.create(user=bob, kind="assigned", ticket=ticket, seq=1)
    body = client.get("/console/").content.decode()
    assert 'id="notif-count" class="notif-count">1<' in body and "Notifications: 1 unread" in body
    Notification.objects.update(read_at=timezone.now())
    assert 'id="notif-count" class="notif-count" hidden>0<' in client.get("/console/").content.decode()


def test_old_read_notifications_are_pruned_by_the_retention_run(bob, settings):
    ticket = new_ticket()
    old = timezone.now() - timedelta(days=settings.HELPDESK_NOTIFICATION_RETENTION_DAYS + 1)
    Notification.objects.create(user=bob, kind="assigned", ticket=ticket, seq=1, created_at=old, read_at=old)
    unread = Notification.objects.create(user=bob, kind="reply", ticket=ticket, seq=2, created_at=old)
    recent = Notification.objects.create(user=bob, kind="reply", ticket=ticket, seq=3, read_at=timezone.now())
    assert "prune_notifications" in settings.HELPDESK_RETENTION_COMMANDS
    call_command("prune_notifications", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert set(Notification.objects.values_list("pk", flat=True)) == {unread.pk, recent.pk}
