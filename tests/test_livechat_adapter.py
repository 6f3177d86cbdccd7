"""The chat adapter: replies to a visitor on the page are just "sent" (the widget reads the event
log); replies to a visitor who left go by email to the contact address they gave, and their
email reply can continue the same ticket."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from livechat import conversation
from livechat.models import VisitorSession
from tests.factories import inbound
from tests.livechat_helpers import make_inbox, make_visitor
from tickets import services
from tickets.channels import ThreadHints
from tickets.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox():
    return make_inbox()


def reply_and_deliver(ticket, agent, run_tasks, capture, text="We found it!"):
    with capture(execute=True):
        reply = services.reply(ticket, author=agent, text=text, client_id=text[:10])
    run_tasks()
    reply.refresh_from_db()
    return reply


def leave(session, seconds=600):
    VisitorSession.objects.filter(pk=session.pk).update(
        connections=0, last_seen_at=timezone.now() - timedelta(seconds=seconds))


def test_reply_to_a_visitor_on_the_page_is_sent_without_email(inbox, agent, run_tasks,
                                                              django_capture_on_commit_callbacks):
    session, _ = make_visitor(inbox)
    message = conversation.send(session, "c-1", "hello")
    conversation.set_contact(session, email="vic@example.com")
    VisitorSession.objects.filter(pk=session.pk).update(connections=1, last_seen_at=timezone.now())
    reply = reply_and_deliver(message.ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    assert reply.status == Message.Status.SENT and reply.adapter == "chat"
    assert reply.external_id == f"chat-{reply.pk}"
    assert mail.outbox == []


def test_reply_to_a_visitor_who_left_goes_by_email_and_their_email_reply_joins_the_ticket(
        inbox, agent, run_tasks, django_capture_on_commit_callbacks):
    session, _ = make_visitor(inbox)
    message = conversation.send(session, "c-1", "my order is broken")
    conversation.set_contact(session, email="Vic@Example.com")
    leave(session)
    reply = reply_and_deliver(message.ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    assert reply.status == Message.Status.SENT
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["vic@example.com"] and "We found it!" in sent.body
    assert f"#{message.ticket_id}" in sent.subject

    # The headers carry the email channel's HMAC threading token for this ticket...
    from channels_email import tokens

    assert tokens.ticket_from_message_ids([sent.extra_headers["Message-ID"]]) == message.ticket_id
    assert tokens.ticket_from_addresses([sent.extra_headers["Reply-To"]]) == message.ticket_id
    # ...so the visitor's email answer is threaded to this ticket (a verified hint), and ingest
    # accepts it because the address is a participant of the chat's ticket.
    answer = services.ingest(inbound("vic@example.com", "thanks, by email", hints=ThreadHints(
        ticket_id=tokens.ticket_from_message_ids([sent.extra_headers["Message-ID"]])))).message
    assert answer.ticket_id == message.ticket_id
    assert [m["text"] for m in conversation.history(session)["messages"]][-1] == "thanks, by email"


def test_a_page_navigation_is_not_leaving(inbox, agent, run_tasks, django_capture_on_commit_callbacks):
    session, _ = make_visitor(inbox)
    message = conversation.send(session, "c-1", "hi")
    conversation.set_contact(session, email="vic@example.com")
    leave(session, seconds=2)  # the socket closed two seconds ago: the next page is loading
    reply = reply_and_deliver(message.ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    # Delivered into the chat (not crashed, not mailed): the visitor sees it on the next page.
    assert reply.status == Message.Status.SENT and mail.outbox == []
    assert conversation.history(session)["messages"][-1]["text"] == "We found it!"


def test_a_visitor_who_left_no_email_gets_the_reply_on_their_next_visit(
        inbox, agent, run_tasks, django_capture_on_commit_callbacks):
    session, _ = make_visitor(inbox)
    message = conversation.send(session, "c-1", "hi")
    leave(session)
    reply = reply_and_deliver(message.ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    assert reply.status == Message.Status.SENT and mail.outbox == []
    assert conversation.history(session)["messages"][-1]["text"] == "We found it!"
