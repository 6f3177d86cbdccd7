"""Availability and automatic assignment: only to agents online in a console, within capacity,
round-robin or least-loaded; tickets wait when nobody is there and are given out oldest first
when someone comes online."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from routing import availability
from routing.engine import run_pass
from routing.models import AgentStatus, TeamRouting
from tests.factories import inbound
from tests.routing_helpers import (
    console_open,
    routed_team,
    routing_cursor,  # noqa: F401 - autouse fixture
)
from tickets import services
from tickets.models import AgentPresence, Event, Ticket

pytestmark = pytest.mark.django_db
RR, LEAST = TeamRouting.Mode.ROUND_ROBIN, TeamRouting.Mode.LEAST_LOADED


_senders = itertools.count(1)


def _tickets(team, n, channel="email"):
    """n new tickets of `team` (each from a new customer), oldest first."""
    made = []
    for _i in range(n):
        i = next(_senders)
        sender = f"c{i}@example.com" if channel == "email" else f"+1415555{i:04d}"
        ticket = services.ingest(inbound(channel=channel, sender=sender)).message.ticket
        services.assign(ticket, team=team)
        made.append(ticket)
    return made


def _assignees(tickets):
    return [Ticket.objects.get(pk=t.pk).assignee_id for t in tickets]


def _agents(django_user_model, n):
    return [django_user_model.objects.create_user(f"agent{i}") for i in range(n)]


def test_availability_follows_choice_open_consoles_and_idleness(django_user_model, settings):
    ada, ben, cy, dee = _agents(django_user_model, 4)
    console_open(ada)
    console_open(ben, status="away")
    AgentStatus.objects.create(user=cy, status="online")  # chose online but has no console open
    console_open(dee)
    AgentStatus.objects.filter(user=dee).update(last_active_at=timezone.now() - timedelta(hours=1))
    settings.HELPDESK_ROUTING_AWAY_AFTER_SECONDS = 900
    assert availability.effective([ada.pk, ben.pk, cy.pk, dee.pk]) == {
        ada.pk: "online", ben.pk: "away", cy.pk: "offline", dee.pk: "away"}
    AgentPresence.objects.filter(user=ada).delete()  # her last console closed
    assert availability.status_of(ada) == "offline"


def test_round_robin_spreads_evenly_over_online_agents_only(django_user_model):
    ada, ben, cy, off = _agents(django_user_model, 4)
    for user in (ada, ben, cy):
        console_open(user)
    team = routed_team("Support", RR, ada, ben, cy, off)
    tickets = _tickets(team, 9)
    run_pass()
    assignees = _assignees(tickets)
    assert assignees == [ada.pk, ben.pk, cy.pk] * 3
    assert off.pk not in assignees
    event = Event.objects.filter(ticket=tickets[0], kind="ticket.updated", data__change="assignment").last()
    assert event.data["actor"] == "Auto-assignment" and event.data["assignee"] == ada.pk


def test_round_robin_continues_where_the_last_pass_stopped(django_user_model):
    ada, ben = _agents(django_user_model, 2)
    console_open(ada)
    console_open(ben)
    team = routed_team("Support", RR, ada, ben)
    first = _tickets(team, 1)
    run_pass()
    second = _tickets(team, 1)
    run_pass()
    assert _assignees(first + second) == [ada.pk, ben.pk]


def test_least_loaded_fills_the_emptiest_agent_first(django_user_model):
    ada, ben = _agents(django_user_model, 2)
    console_open(ada)
    console_open(ben)
    team = routed_team("Support", LEAST, ada, ben)
    for ticket in _tickets(team, 3):  # ada already works on three
        services.assign(ticket, assignee=ada)
    new = _tickets(team, 4)
    run_pass()
    assert _assignees(new) == [ben.pk, ben.pk, ben.pk, ada.pk]


def test_nobody_goes_over_capacity_and_the_rest_wait_unassigned(django_user_model):
    ada, ben = _agents(django_user_model, 2)
    console_open(ada, capacity=2)
    console_open(ben, capacity=1)
    team = routed_team("Support", RR, ada, ben)
    tickets = _tickets(team, 5)
    run_pass()
    assignees = _assignees(tickets)
    assert sorted(filter(None, assignees)) == sorted([ada.pk, ada.pk, ben.pk])
    assert assignees[3:] == [None, None]  # the newest wait; the oldest were served first


def test_capacity_per_channel(django_user_model):
    ada = _agents(django_user_model, 1)[0]
    console_open(ada, channel_capacity={"sms": 1})
    team = routed_team("Support", RR, ada)
    texts = _tickets(team, 2, channel="sms")
    mails = _tickets(team, 2)
    run_pass()
    assert _assignees(texts) == [ada.pk, None]
    assert _assignees(mails) == [ada.pk, ada.pk]


def test_tickets_wait_while_nobody_is_online_and_go_out_oldest_first_when_someone_comes(django_user_model):
    ada = _agents(django_user_model, 1)[0]
    console_open(ada, status="away", capacity=2)
    team = routed_team("Support", RR, ada)
    tickets = _tickets(team, 3)
    run_pass()
    assert _assignees(tickets) == [None, None, None]
    availability.set_status(ada, "online")
    run_pass()
    assert _assignees(tickets) == [ada.pk, ada.pk, None]


def test_going_online_asks_the_worker_for_a_pass(django_user_model, run_tasks):
    ada = _agents(django_user_model, 1)[0]
    console_open(ada, status="away")
    team = routed_team("Support", RR, ada)
    tickets = _tickets(team, 1)
    availability.set_status(ada, "online")
    run_tasks()
    assert _assignees(tickets) == [ada.pk]


def test_an_agent_never_takes_a_ticket_someone_assigned_and_off_teams_are_left_alone(django_user_model):
    ada, ben = _agents(django_user_model, 2)
    console_open(ada)
    team = routed_team("Support", RR, ada)
    manual = routed_team("Sales", TeamRouting.Mode.OFF, ada)
    taken, left = _tickets(team, 1) + _tickets(manual, 1)
    services.assign(taken, assignee=ben)
    run_pass()
    assert _assignees([taken, left]) == [ben.pk, None]


def test_pending_and_solved_tickets_are_not_given_out_and_do_not_count_as_load(django_user_model):
    ada = _agents(django_user_model, 1)[0]
    console_open(ada, capacity=1)
    team = routed_team("Support", RR, ada)
    pending, waiting = _tickets(team, 2)
    services.assign(pending, assignee=ada)
    services.set_status(pending, "pending")
    run_pass()
    assert _assignees([waiting]) == [ada.pk]


def test_the_event_sink_asks_for_one_pass_for_many_commits(django_user_model, django_capture_on_commit_callbacks):
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    ada = _agents(django_user_model, 1)[0]
    routed_team("Support", RR, ada)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            services.ingest(inbound(sender=f"x{i}@example.com"))
    waiting = DBTaskResult.objects.filter(task_path="routing.tasks.route", status=TaskResultStatus.READY)
    assert waiting.count() == 1


def test_the_sink_asks_for_nothing_while_routing_is_not_configured(django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        services.ingest(inbound(sender="x@example.com"))
    assert not DBTaskResult.objects.filter(task_path="routing.tasks.route").exists()
