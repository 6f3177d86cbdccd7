"""reply(), note(), delivery through the real task worker, forward-only status, stale guard."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import inbound
from tests.fakes import channel as testing
from tickets import services
from tickets.channels import DeliveryUpdate, TransientDeliveryError
from tickets.models import Event, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    return services.ingest(inbound("visitor-1", "help", channel="fake", adapter="fake")).message.ticket


def send(ticket, agent, text="On it", capture=None, **kwargs):
    with capture(execute=True):
        return services.reply(ticket, author=agent, text=text, **kwargs)


def test_a_reply_is_queued_then_delivered_by_the_worker(ticket, agent, run_tasks, django_capture_on_commit_callbacks):
    reply = send(ticket, agent, capture=django_capture_on_commit_callbacks, client_id="c1")
    assert reply.status == Message.Status.QUEUED and reply.adapter == "fake" and reply.channel == "fake"
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT and reply.external_id == f"fake-{reply.pk}"
    assert testing.outbox == [("fake", reply.pk, "On it")]
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.waiting_since is None and ticket.first_response_at
    assert list(Event.objects.filter(message=reply).order_by("seq").values_list("kind", flat=True)) == [
        "message.created", "message.status"]  # in seq order: PostgreSQL returns unordered rows in any order


def test_a_retried_send_with_the_same_client_id_is_one_message(ticket, agent, run_tasks, django_capture_on_commit_callbacks):
    first = send(ticket, agent, capture=django_capture_on_commit_callbacks, client_id="same")
    second = send(ticket, agent, capture=django_capture_on_commit_callbacks, client_id="same")
    assert first.pk == second.pk
    run_tasks()
    assert Message.objects.filter(direction="outbound").count() == 1 and len(testing.outbox) == 1


def test_a_permanent_error_fails_at_once_with_the_reason(ticket, agent, run_tasks, django_capture_on_commit_callbacks):
    testing.refuse_next()
    reply = send(ticket, agent, "refused please", capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    reply.refresh_from_db()
    assert reply.status == Message.Status.FAILED
    assert (reply.error_code, reply.error_message) == ("fake-permanent", "the fake provider refused it")
    assert DBTaskResult.objects.count() == 1  # no retry was scheduled


def test_a_transient_error_retries_with_backoff_then_succeeds(ticket, agent, run_tasks, settings, django_capture_on_commit_callbacks):
    settings.HELPDESK_DELIVERY_BACKOFF_SECONDS = 60
    testing.failures.append(TransientDeliveryError("busy", code="429", retry_after=0))
    reply = send(ticket, agent, capture=django_capture_on_commit_callbacks)
    run_tasks()
    reply.refresh_from_db()
    assert reply.status == Message.Status.QUEUED and reply.meta["attempts"] == 1 and reply.meta["last_error"] == "busy"
    retry = DBTaskResult.objects.order_by("enqueued_at").last()
    assert retry.run_after > timezone.now() + timedelta(seconds=40)  # 60 s +/- jitter
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=retry.run_after - timedelta(hours=2))  # time passes
    run_tasks()
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT and len(testing.outbox) == 1


def test_transient_errors_give_up_after_the_bounded_attempts(ticket, agent, run_tasks, settings, django_capture_on_commit_callbacks):
    settings.HELPDESK_DELIVERY_MAX_ATTEMPTS = 3
    testing.busy_next(5)  # more than the attempts allowed
    reply = send(ticket, agent, "busy forever", capture=django_capture_on_commit_callbacks)
    for _ in range(5):
        DBTaskResult.objects.update(run_after=timezone.now() - timedelta(hours=2))
        run_tasks()
    reply.refresh_from_db()
    assert reply.status == Message.Status.FAILED and "gave up after 3 attempts" in reply.error_message
    assert DBTaskResult.objects.count() == 3


def test_status_only_moves_forward_whatever_the_callback_order(ticket, agent, run_tasks, django_capture_on_commit_callbacks):
    reply = send(ticket, agent, capture=django_capture_on_commit_callbacks)
    run_tasks()
    updates = [DeliveryUpdate("fake", f"fake-{reply.pk}", s) for s in ["sent", "delivered", "read", "sent", "delivered"]]
    random.Random(7).shuffle(updates)
    for update in updates + updates:
        services.apply_delivery_update(update)
    reply.refresh_from_db()
    assert reply.status == Message.Status.READ
    services.apply_delivery_update(DeliveryUpdate("fake", f"fake-{reply.pk}", "failed", "30003", "Unreachable"))
    reply.refresh_from_db()
    assert reply.status == Message.Status.READ and reply.error_code == ""


def test_a_failure_after_sent_is_recorded_and_the_agent_can_retry(ticket, agent, run_tasks, django_capture_on_commit_callbacks):
    reply = send(ticket, agent, capture=django_capture_on_commit_callbacks)
    run_tasks()
    services.apply_delivery_update(DeliveryUpdate("fake", f"fake-{reply.pk}", "failed", "30003", "Unreachable handset"))
    reply.refresh_from_db()
    assert (reply.status, reply.error_code, reply.error_message) == ("failed", "30003", "Unreachable handset")
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_delivery(reply, actor=agent)
    reply.refresh_from_db()
    assert reply.status == Message.Status.QUEUED


def test_the_stale_reply_guard_holds_a_reply_over_new_customer_activity(ticket, agent):
    from tickets import events

    seen = events.current_seq()
    services.ingest(inbound("visitor-1", "actually, never mind", channel="fake", adapter="fake"))
    with pytest.raises(services.StaleReply, match="New activity on this ticket") as held:
        services.reply(ticket, author=agent, text="Sure!", seen_seq=seen)
    assert held.value.events[0]["data"]["text"] == "actually, never mind"
    assert not Message.objects.filter(direction="outbound").exists()
    # Having seen it, the agent can send.
    assert services.reply(ticket, author=agent, text="Sure!", seen_seq=events.current_seq()).status == "queued"


def test_the_agents_own_earlier_reply_does_not_hold_the_next(ticket, agent):
    from tickets import events

    seen = events.current_seq()
    services.reply(ticket, author=agent, text="one")
    assert services.reply(ticket, author=agent, text="two", seen_seq=seen).text == "two"


def test_an_opted_out_identity_is_refused_with_a_clear_reason(agent):
    ticket = services.ingest(inbound("+14155550100", "STOP", channel="sms", adapter="fakesms", identity_signal="opt_out")).message.ticket
    with pytest.raises(services.ReplyRefused, match="opted out"):
        services.reply(ticket, author=agent, text="hello?")
    assert not Message.objects.filter(direction="outbound").exists()


def test_a_reply_without_a_configured_adapter_is_refused(agent):
    ticket = services.ingest(inbound("ada@example.com", "hi", channel="pigeon")).message.ticket
    with pytest.raises(services.ReplyRefused, match="No adapter"):
        services.reply(ticket, author=agent, text="coo")


def test_an_internal_note_is_never_public(ticket, agent):
    note = services.note(ticket, author=agent, text="VIP, be nice")
    event = Event.objects.get(message=note)
    assert note.direction == Message.Direction.NOTE and event.public is False


def test_assign_and_status_record_events_only_when_something_changed(ticket, agent):
    before = Event.objects.count()
    services.assign(ticket, assignee=agent, actor=agent)
    services.assign(ticket, assignee=agent, actor=agent)
    services.set_status(ticket, "pending", actor=agent)
    assert Event.objects.count() == before + 2
    ticket.refresh_from_db()
    assert ticket.assignee == agent and ticket.status == "pending"
    with pytest.raises(ValueError, match="unknown status 'bogus'"):
        services.set_status(ticket, "bogus", actor=agent)


def test_merge_moves_everything_and_undo_puts_it_back(agent):
    a = services.ingest(inbound("ada@example.com", "mail")).message
    b = services.ingest(inbound("+14155550100", "sms", channel="sms")).message
    merge = services.merge_customers(b.customer, a.customer, actor=agent, reason="same person")
    assert set(a.customer.identities.values_list("channel", flat=True)) == {"email", "sms"}
    assert Message.objects.filter(customer=a.customer).count() == 2
    assert Event.objects.filter(kind="customer.merged").exists()
    services.undo_merge(merge, actor=agent)
    b.refresh_from_db()
    assert b.customer_id != a.customer_id and b.ticket.customer_id == b.customer_id
    assert a.customer.identities.count() == 1
    merge.refresh_from_db()
    assert merge.undone_at and merge.undone_by == agent


def test_a_cc_on_an_email_reply_goes_out_and_stays_on_the_ticket(agent, run_tasks, mailoutbox, django_capture_on_commit_callbacks):
    ticket = services.ingest(inbound("ada@example.com", "hello", adapter="email")).message.ticket
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, author=agent, text="Looping in Bob", meta={"cc": ["Bob@Example.com"]})
    run_tasks()
    assert mailoutbox[-1].to == ["ada@example.com"] and mailoutbox[-1].cc == ["bob@example.com"]
    ticket.refresh_from_db()
    assert ["email", "bob@example.com"] in ticket.meta["participants"]


@pytest.mark.parametrize("bad", ["not an address", "x@example.com\nBcc: all@example.com"])
def test_a_bad_cc_is_refused_before_anything_is_stored(agent, bad):
    ticket = services.ingest(inbound("ada@example.com", "hello", adapter="email")).message.ticket
    with pytest.raises(services.ReplyRefused, match="not an email address"):
        services.reply(ticket, author=agent, text="hi", meta={"cc": [bad]})
    assert not Message.objects.filter(direction="outbound").exists()
