"""The rules of the clock, one test each, through the real services and a fixed clock: the
metrics record is written by the in-transaction event hook."""

import logging
from datetime import timedelta

import pytest
from django.core.management import call_command

from service_levels.models import TicketMetrics
from tests.sla_helpers import T0, calendar_policy, customer_writes, fixed_clock, targets  # noqa: F401
from tickets import services, testing
from tickets.models import Customer, Ticket

pytestmark = pytest.mark.django_db


def deliver(run_tasks, capture):
    with capture(execute=True):
        run_tasks()


def test_first_reply_is_met_by_an_agent_reply(clock, agent):
    calendar_policy()
    ticket = customer_writes().ticket
    metrics, t = targets(ticket)
    assert t["first_reply"]["state"] == "active" and t["first_reply"]["due"] == (T0 + timedelta(minutes=60)).isoformat()
    assert metrics.next_due_at == T0 + timedelta(minutes=60) and metrics.policy_name == "Standard"
    clock.at(10)
    services.reply(ticket, author=agent, text="On it")
    metrics, t = targets(ticket)
    assert t["first_reply"]["state"] == "achieved" and t["first_reply"]["elapsed"] == 600
    assert metrics.first_reply_seconds == 600 and metrics.public_replies == 1
    assert metrics.next_due_at == T0 + timedelta(minutes=240)  # resolution is next


def test_a_failed_reply_puts_the_clock_back(clock, agent, run_tasks, django_capture_on_commit_callbacks):
    calendar_policy()
    ticket = customer_writes().ticket
    clock.at(10)
    testing.refuse_next()
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, author=agent, text="this one bounces")
    assert targets(ticket)[1]["first_reply"]["state"] == "achieved"
    deliver(run_tasks, django_capture_on_commit_callbacks)  # the provider refuses it
    metrics, t = targets(ticket)
    assert t["first_reply"]["state"] == "active" and metrics.first_reply_at is None and metrics.public_replies == 0
    clock.at(20)
    services.reply(ticket, author=agent, text="Second try")
    metrics, t = targets(ticket)
    assert metrics.first_reply_seconds == 1200 and t["first_reply"]["met_at"] == clock.now.isoformat()


def test_notes_and_automatic_messages_are_not_replies(clock, agent):
    calendar_policy()
    ticket = customer_writes().ticket
    clock.at(5)
    services.note(ticket, author=agent, text="looking")
    services.reply(ticket, author=None, text="We got your message", meta={"automated": "acknowledgement"})
    services.reply(ticket, author=agent, text="Auto rule", meta={"automated": "rule"})
    metrics, t = targets(ticket)
    assert t["first_reply"]["state"] == "active"
    assert (metrics.public_replies, metrics.agent_touches, metrics.first_reply_at) == (0, 1, None)


def test_next_reply_starts_when_the_customer_writes_after_a_reply(clock, agent):
    calendar_policy()
    ticket = customer_writes().ticket
    clock.at(10)
    services.reply(ticket, author=agent, text="Which order?")
    clock.at(15)
    customer_writes("Order 42")
    clock.at(16)
    customer_writes("Also 43")  # still the same wait
    _m, t = targets(ticket)
    assert t["next_reply"]["start"] == (T0 + timedelta(minutes=15)).isoformat()
    assert t["next_reply"]["due"] == (T0 + timedelta(minutes=45)).isoformat()
    clock.at(60)
    services.reply(ticket, author=agent, text="Both shipped")
    metrics, t = targets(ticket)
    assert t["next_reply"]["state"] == "breached" and t["next_reply"]["over"] == 15 * 60
    assert metrics.next_replies == [[45 * 60, None]] and metrics.customer_messages == 3


def test_pending_pauses_resolution_and_the_customer_resumes_it(clock, agent):
    calendar_policy()
    ticket = customer_writes().ticket
    clock.at(10)
    services.reply(ticket, author=agent, text="Can you send a photo?")
    clock.at(30)
    services.set_status(ticket, "pending", actor=agent)
    _m, t = targets(ticket)
    assert t["resolution"]["state"] == "paused" and t["resolution"]["remaining"] == 210 * 60
    clock.at(90)
    customer_writes("Here it is")
    _m, t = targets(ticket)
    assert t["resolution"]["state"] == "active"
    assert t["resolution"]["due"] == (T0 + timedelta(minutes=90 + 210)).isoformat()
    clock.at(120)
    services.set_status(ticket, "solved", actor=agent)
    metrics, t = targets(ticket)
    assert t["resolution"]["state"] == "achieved" and metrics.resolution_seconds == 60 * 60
    assert metrics.solved_at == clock.now and metrics.next_due_at is None


def test_a_reopened_ticket_resumes_resolution_and_starts_a_next_reply(clock, agent):
    calendar_policy()
    ticket = customer_writes().ticket
    clock.at(10)
    services.reply(ticket, author=agent, text="Fixed")
    clock.at(20)
    services.set_status(ticket, "solved", actor=agent)
    clock.at(500)
    customer_writes("It broke again")
    metrics, t = targets(ticket)
    assert Ticket.objects.get(pk=ticket.pk).status == "open" and metrics.reopens == 1
    assert t["next_reply"]["state"] == "active" and t["next_reply"]["start"] == clock.now.isoformat()
    # 20 minutes used before the solve: 220 left from the reopen.
    assert t["resolution"]["due"] == (clock.now + timedelta(minutes=220)).isoformat()
    assert len(metrics.solves) == 1 and metrics.solved_at is None


def test_a_priority_change_reevaluates_the_policy_from_the_original_start(clock, agent):
    calendar_policy(name="Urgent", priorities=[Ticket.Priority.URGENT], first_reply_minutes=15)
    calendar_policy()
    ticket = customer_writes().ticket
    assert targets(ticket)[0].policy_name == "Standard"
    clock.at(10)
    services.set_priority(ticket, Ticket.Priority.URGENT, actor=agent)
    metrics, t = targets(ticket)
    assert metrics.policy_name == "Urgent"
    assert t["first_reply"]["due"] == (T0 + timedelta(minutes=15)).isoformat()


def test_a_moved_message_moves_the_wait_with_it(clock, agent):
    calendar_policy()
    first = customer_writes("About order 1").ticket
    clock.at(10)
    services.reply(first, author=agent, text="Shipped")
    clock.at(20)
    second = services.open_ticket(first.customer, actor=agent, subject="Order 2", channel="fake")
    clock.at(30)
    stray = customer_writes("Order 1 again: it arrived broken")  # lands on the newer ticket
    assert stray.ticket_id == second.pk and targets(second)[1]["first_reply"]["state"] == "active"
    services.move_message(stray, first, actor=agent)
    metrics1, t1 = targets(first)
    metrics2, t2 = targets(second)
    assert "first_reply" not in t2 and "next_reply" not in t2 and metrics2.customer_messages == 0
    assert t1["next_reply"]["state"] == "active" and metrics1.customer_messages == 2
    assert t1["next_reply"]["start"] == (T0 + timedelta(minutes=30)).isoformat()


def test_merging_customers_reevaluates_the_organisation_condition(clock, agent):
    calendar_policy(name="Acme", organisations=["ACME Ltd"], first_reply_minutes=10)
    calendar_policy()
    ticket = customer_writes(sender="visitor-1").ticket
    acme = Customer.objects.create(name="Acme buyer", organisation="Acme Ltd")
    merge = services.merge_customers(ticket.customer, acme, actor=agent)
    assert targets(ticket)[0].policy_name == "Acme"
    services.undo_merge(merge, actor=agent)
    assert targets(ticket)[0].policy_name == "Standard"


def test_a_policy_that_cannot_be_computed_leaves_no_clock_but_keeps_the_message(clock, caplog):
    calendar_policy(first_reply_business=True)  # business hours, and no schedule exists
    with caplog.at_level(logging.WARNING, logger="service_levels"):
        message = customer_writes()
    metrics = TicketMetrics.objects.get(ticket=message.ticket)
    assert metrics.targets == [] and metrics.next_due_at is None and metrics.customer_messages == 1
    assert "counts business hours but no schedule applies" in caplog.text


def test_a_failing_hook_loses_nothing(clock, monkeypatch, caplog):
    from service_levels import metrics

    monkeypatch.setattr(metrics, "compute", lambda *a, **k: 1 / 0)
    with caplog.at_level(logging.ERROR, logger="tickets.events"):
        message = customer_writes()
    assert message.pk and Ticket.objects.filter(pk=message.ticket_id).exists()
    assert not TicketMetrics.objects.filter(ticket=message.ticket_id).exists()
    assert "event hook on_events failed" in caplog.text


def test_rebuild_gives_the_live_numbers(clock, agent, run_tasks, django_capture_on_commit_callbacks):
    calendar_policy()
    ticket = customer_writes().ticket
    clock.at(10)
    testing.refuse_next()
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, author=agent, text="refused once")
    deliver(run_tasks, django_capture_on_commit_callbacks)
    clock.at(12)
    services.reply(ticket, author=agent, text="Answer")
    services.note(ticket, author=agent, text="note")
    clock.at(30)
    services.set_status(ticket, "pending", actor=agent)
    clock.at(50)
    customer_writes("thanks, one more thing")
    clock.at(70)
    services.set_status(ticket, "solved", actor=agent)
    other = customer_writes(sender="visitor-2").ticket
    fields = [f.name for f in TicketMetrics._meta.fields if f.name not in ("updated_at", "next_check_at")]
    live = {t: TicketMetrics.objects.filter(ticket=t).values(*fields).get() for t in (ticket.pk, other.pk)}
    TicketMetrics.objects.all().delete()
    call_command("rebuild_ticket_metrics", verbosity=0)
    rebuilt = {t: TicketMetrics.objects.filter(ticket=t).values(*fields).get() for t in (ticket.pk, other.pk)}
    assert rebuilt == live
    assert (live[ticket.pk]["public_replies"], live[ticket.pk]["agent_touches"]) == (1, 2)
    assert live[ticket.pk]["resolution_seconds"] == (30 + 20) * 60 and len(live[ticket.pk]["solves"]) == 1
    # For reports: the first replier (the refused reply credits nobody) and Zendesk's full
    # resolution time (creation to solve, pending included).
    assert live[ticket.pk]["first_reply_by"] == agent.pk and live[ticket.pk]["full_resolution_seconds"] == 70 * 60
    assert live[ticket.pk]["sla_outcomes"].split()[0] == "first_reply:achieved"


def test_rebuild_records_the_deadlines_already_past_once(clock, agent):
    from io import StringIO

    from service_levels.models import Alert
    from tickets.models import Event

    calendar_policy(first_reply_minutes=60, next_reply_minutes=None, resolution_minutes=None)
    late = customer_writes(sender="visitor-1").ticket  # due at 60 min
    clock.at(40)
    warned = customer_writes(sender="visitor-2").ticket  # warning at 88 min, due at 100
    answered = customer_writes(sender="visitor-3").ticket
    services.reply(answered, author=agent, text="In time")
    TicketMetrics.objects.all().delete()  # an install that upgrades: no records, no alerts
    clock.at(90)

    out = StringIO()
    call_command("rebuild_ticket_metrics", stdout=out)
    assert "Rebuilt the metrics of 3 tickets." in out.getvalue()
    assert "Deadlines already past: recorded 1 warnings and 1 breaches." in out.getvalue()
    assert sorted(Alert.objects.values_list("ticket_id", "kind")) == sorted([(late.pk, "breach"), (warned.pk, "warning")])
    assert Event.objects.filter(kind="sla.breached", ticket=late).count() == 1

    out = StringIO()
    call_command("rebuild_ticket_metrics", stdout=out)
    assert "Deadlines already past: recorded 0 warnings and 0 breaches." in out.getvalue()
    assert Alert.objects.count() == 2 and Event.objects.filter(kind__startswith="sla.").count() == 2
    # The next moment still ahead (the second ticket's breach at 100 min) has its sweep.
    assert TicketMetrics.objects.get(ticket=warned).next_check_at == T0 + timedelta(minutes=100)
