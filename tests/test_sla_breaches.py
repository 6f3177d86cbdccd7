"""Warnings and breaches: found by the real task worker when they fall due (run_after), each
recorded once, as an event the assignee (or the team) is told about."""

import pytest
from django_tasks_db.models import DBTaskResult

from service_levels.models import Alert
from service_levels.tasks import sweep
from tests.factories import run_at_once
from tests.sla_helpers import calendar_policy, customer_writes, fixed_clock  # noqa: F401
from tickets import services
from tickets.models import Event, Team


def sla_events():
    return list(Event.objects.filter(kind__startswith="sla.").order_by("seq").values_list("kind", "data"))


@pytest.mark.django_db
def test_a_warning_then_a_breach_each_once_at_their_moment(clock, agent, run_tasks):
    calendar_policy(resolution_minutes=None)  # first reply 60 min, warned at 80 %
    ticket = customer_writes().ticket
    services.assign(ticket, assignee=agent, actor=agent)
    waiting = DBTaskResult.objects.filter(task_path="service_levels.tasks.sweep").get()
    assert waiting.run_after == clock.at(48)  # one sweep, due at the first warning
    clock.at(47)
    run_tasks()
    assert sla_events() == []
    clock.at(50)
    run_tasks()
    [(kind, data)] = sla_events()
    assert (kind, data["target"], data["notify"]) == ("sla.warning", "first_reply", [agent.pk])
    clock.at(61)
    run_tasks()
    run_tasks()
    sweep.call()  # a stray duplicate sweep changes nothing
    kinds = [kind for kind, _data in sla_events()]
    assert kinds == ["sla.warning", "sla.breached"]
    assert sla_events()[1][1]["overdue_seconds"] == 60
    assert Alert.objects.filter(ticket=ticket).count() == 2


@pytest.mark.django_db
def test_an_answered_ticket_never_breaches_and_the_team_hears_of_unassigned_ones(clock, agent, bob, run_tasks):
    calendar_policy(resolution_minutes=None, warn_percent=100)
    team = Team.objects.create(name="Billing")
    team.members.add(agent, bob)
    answered = customer_writes(sender="visitor-1").ticket
    waiting = customer_writes(sender="visitor-2").ticket
    services.assign(waiting, assignee=None, team=team, actor=agent)
    clock.at(30)
    services.reply(answered, author=agent, text="Done")
    clock.at(61)
    run_tasks()
    [(kind, data)] = sla_events()
    assert kind == "sla.breached" and data["ticket"] == waiting.pk and sorted(data["notify"]) == sorted([agent.pk, bob.pk])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_record_a_breach_exactly_once(clock):
    """Twenty sweeps due at once over forty breached tickets, two workers taking them."""
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.management.commands.db_worker import Worker

    calendar_policy(resolution_minutes=None, warn_percent=100)
    tickets = [customer_writes(sender=f"visitor-{i}").ticket for i in range(40)]
    for _ in range(20):
        sweep.enqueue()
    clock.at(61)

    def work(i):
        Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
               max_tasks=None, worker_id=f"worker-{i}", excluded_queue_names=[]).run()

    assert db_worker.close_old_connections  # the real workers, each on its own connection
    assert run_at_once(work, count=2) == []
    assert sorted(data["ticket"] for _kind, data in sla_events()) == [t.pk for t in tickets]
    assert Alert.objects.filter(kind="breach").count() == 40
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() >= 21
