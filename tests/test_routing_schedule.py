"""Snooze (pending until a time; the worker wakes it with django.tasks run_after, reopens it
and notifies the assignee) and auto-close of solved tickets, on a fixed clock."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from routing.engine import run_pass
from routing.models import Snooze
from routing.schedule import auto_close, snooze, wake_up
from tests.factories import inbound
from tests.routing_helpers import routing_cursor  # noqa: F401 - autouse fixture
from tickets import services
from tickets.models import Mention, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """A fixed clock that tests move by hand (every timezone.now() in Django and our code)."""
    class Clock:
        now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

        def advance(self, **kwargs):
            self.now += timedelta(**kwargs)

    c = Clock()
    monkeypatch.setattr(timezone, "now", lambda: c.now)
    return c


def test_a_snoozed_ticket_is_pending_and_the_worker_reopens_it_at_that_time(clock, agent, run_tasks):
    from django_tasks_db.models import DBTaskResult

    ticket = services.ingest(inbound()).message.ticket
    services.assign(ticket, assignee=agent)
    until = clock.now + timedelta(hours=3)
    snooze(ticket, until, actor=agent)
    assert Ticket.objects.get(pk=ticket.pk).status == "pending"
    assert DBTaskResult.objects.get(task_path="routing.tasks.wake").run_after == until
    run_tasks()  # not due yet
    assert Ticket.objects.get(pk=ticket.pk).status == "pending"
    clock.advance(hours=3, seconds=1)
    run_tasks()
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
    assert Mention.objects.filter(user=agent, message__ticket=ticket).exists()  # the assignee is told
    assert not Snooze.objects.exists()


def test_a_customer_reply_ends_the_snooze_and_the_wake_up_then_does_nothing(clock, agent):
    ticket = services.ingest(inbound(sender="s@example.com")).message.ticket
    until = clock.now + timedelta(hours=1)
    snooze(ticket, until, actor=agent)
    services.ingest(inbound(sender="s@example.com", text="any news?"))
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
    run_pass()
    assert not Snooze.objects.exists()
    services.set_status(ticket, "pending")  # an agent answered and set it pending again
    clock.advance(hours=2)
    assert wake_up(ticket.pk, until.isoformat()) is False
    assert Ticket.objects.get(pk=ticket.pk).status == "pending"


def test_a_re_snooze_makes_the_first_wake_up_a_no_op(clock, agent):
    ticket = services.ingest(inbound()).message.ticket
    first = clock.now + timedelta(hours=1)
    snooze(ticket, first, actor=agent)
    snooze(ticket, clock.now + timedelta(days=1), actor=agent)
    clock.advance(hours=2)
    assert wake_up(ticket.pk, first.isoformat()) is False
    assert Ticket.objects.get(pk=ticket.pk).status == "pending"


def test_snoozing_into_the_past_is_refused(clock, agent):
    ticket = services.ingest(inbound()).message.ticket
    with pytest.raises(ValueError, match="in the future"):
        snooze(ticket, clock.now - timedelta(minutes=1), actor=agent)


def test_solved_tickets_close_after_the_configured_days(clock, settings):
    settings.HELPDESK_ROUTING_AUTO_CLOSE_DAYS = 4
    old = services.ingest(inbound(sender="old@example.com")).message.ticket
    services.set_status(old, "solved")
    clock.advance(days=2)
    recent = services.ingest(inbound(sender="new@example.com")).message.ticket
    services.set_status(recent, "solved")
    still_open = services.ingest(inbound(sender="open@example.com")).message.ticket
    clock.advance(days=2, minutes=1)
    assert auto_close() == 1
    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert (statuses[old.pk], statuses[recent.pk], statuses[still_open.pk]) == ("closed", "solved", "new")
    from tickets.models import Event

    assert Event.objects.filter(ticket=old, data__actor="Auto-close", data__status="closed").exists()


def test_auto_close_is_off_by_default(clock):
    ticket = services.ingest(inbound()).message.ticket
    services.set_status(ticket, "solved")
    clock.advance(days=365)
    assert auto_close() == 0
