"""A failed delivery answered nobody: the ticket waits again and the failed reply is not its
first response (issue 12). Through the real task worker and the providers' status callbacks."""

import pytest

from tests.factories import inbound
from tests.fakes import channel as testing
from tickets import services
from tickets.channels import DeliveryUpdate
from tickets.models import Event, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    return services.ingest(inbound("visitor-1", "help", channel="fake", adapter="fake")).message.ticket


@pytest.fixture
def send(agent, run_tasks, django_capture_on_commit_callbacks):
    def send(ticket, text, deliver=True):
        with django_capture_on_commit_callbacks(execute=True):
            message = services.reply(ticket, author=agent, text=text, client_id=f"c-{text}")
        if deliver:
            with django_capture_on_commit_callbacks(execute=True):
                run_tasks()
        message.refresh_from_db()
        return message
    return send


def state(ticket):
    ticket.refresh_from_db()
    return ticket.waiting_since, ticket.first_response_at


def test_a_reply_refused_at_once_leaves_the_ticket_waiting_with_no_first_response(ticket, send):
    waiting = ticket.waiting_since
    testing.refuse_next()
    failed = send(ticket, "refused now")
    assert failed.status == Message.Status.FAILED
    assert state(ticket) == (waiting, None)
    update = Event.objects.filter(ticket=ticket, kind="ticket.updated").latest("seq")
    assert update.data["change"] == "reply_failed" and update.data["waiting_since"] is not None


def test_a_bounce_after_sent_restores_waiting_and_first_response(ticket, send):
    waiting = ticket.waiting_since
    reply = send(ticket, "On it")
    assert reply.status == Message.Status.SENT and state(ticket)[0] is None and state(ticket)[1] is not None
    services.apply_delivery_update(DeliveryUpdate("fake", reply.external_id, "failed", "30003", "Unreachable"))
    assert state(ticket) == (waiting, None)


def test_an_earlier_delivered_reply_stays_the_first_response(ticket, send):
    send(ticket, "first answer")
    first_response = state(ticket)[1]
    services.ingest(inbound("visitor-1", "one more thing", channel="fake", adapter="fake"))
    waiting_again = state(ticket)[0]
    testing.refuse_next()
    send(ticket, "refused second")
    assert state(ticket) == (waiting_again, first_response)


def test_a_failed_reply_followed_by_a_good_one_leaves_the_ticket_answered(ticket, send):
    queued = send(ticket, "will bounce", deliver=False)
    good = send(ticket, "second try")  # delivers both
    services.mark_failed(queued.pk, "hard", "bounced")
    waiting, first_response = state(ticket)
    assert waiting is None and first_response == good.created_at


def test_the_customer_waits_since_their_first_unanswered_message(ticket, send):
    waiting = ticket.waiting_since
    reply = send(ticket, "On it")
    services.ingest(inbound("visitor-1", "hello?", channel="fake", adapter="fake"))
    assert state(ticket)[0] > waiting
    services.mark_failed(reply.pk, "hard", "bounced")
    assert state(ticket)[0] == waiting


def test_retrying_a_failed_reply_answers_the_ticket_again(ticket, send, agent, django_capture_on_commit_callbacks):
    testing.refuse_next()
    failed = send(ticket, "refused once")
    assert state(ticket)[1] is None
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_delivery(failed, actor=agent)
    waiting, first_response = state(ticket)
    assert waiting is None and first_response is not None
    services.mark_failed(failed.pk, "hard", "bounced again")
    assert state(ticket)[1] is None and Ticket.objects.get(pk=ticket.pk).waiting_since is not None
