"""Who becomes a participant of an email ticket (issue 12): Cc'd addresses join only from the
customer's own first mail of the ticket, or when an agent adds them; a later mail cannot hand
out access (and every later reply) with a Cc. The console shows who a reply will go to."""

import pytest
from django.core import mail as django_mail

from channels_email.pipe import ingest_raw
from tests.email_helpers import mail
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(agent, run_tasks, django_capture_on_commit_callbacks):
    """Jane writes in with Bob in Cc; the agent answers. Returns (ticket, Message-ID of the reply)."""
    def send_reply(ticket, text, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            services.reply(ticket, author=agent, text=text, client_id=text, **kwargs)
        run_tasks()
        return [m for m in django_mail.outbox if "Auto-Submitted" not in m.extra_headers][-1]

    with django_capture_on_commit_callbacks(execute=True):
        _p, items = ingest_raw(mail(headers="Cc: Bob <bob@example.org>\r\n"))
    ticket = items[0].message.ticket
    sent = send_reply(ticket, "first answer")
    return ticket, sent.extra_headers["Message-ID"], send_reply


def participants(ticket):
    return [address for _channel, address in Ticket.objects.get(pk=ticket.pk).meta.get("participants", [])]


def test_the_first_mail_s_cc_become_participants_and_are_copied(thread):
    ticket, _msgid, send_reply = thread
    assert participants(ticket) == ["bob@example.org"]
    assert send_reply(ticket, "second answer").cc == ["bob@example.org"]


@pytest.mark.parametrize("sender", ["Jane Customer <jane@example.org>", "Bob <bob@example.org>"],
                         ids=["the-customer-later", "a-participant"])
def test_a_later_mail_cannot_add_participants_by_cc(thread, sender):
    ticket, msgid, send_reply = thread
    _p, items = ingest_raw(mail(sender=sender, msgid="<later@example.org>", body="see cc",
                                headers=f"In-Reply-To: {msgid}\r\nCc: Eve <eve@evil.test>\r\n"))
    message = items[0].message
    assert message.ticket_id == ticket.pk and message.meta["cc"] == ["eve@evil.test"]  # kept, not trusted
    assert participants(ticket) == ["bob@example.org"]
    assert "eve@evil.test" not in send_reply(ticket, "later answer").cc
    # ... and Eve cannot write into the ticket either.
    _p, items = ingest_raw(mail(sender="Eve <eve@evil.test>", msgid="<eve@evil.test>",
                                headers=f"In-Reply-To: {msgid}\r\n"))
    assert items[0].message.ticket_id != ticket.pk


def test_an_agent_adds_a_participant_from_the_reply_s_cc(thread):
    ticket, _msgid, send_reply = thread
    assert send_reply(ticket, "looping in Carol", meta={"cc": ["carol@example.org"]}).cc == [
        "bob@example.org", "carol@example.org"]
    assert participants(ticket) == ["bob@example.org", "carol@example.org"]


def test_the_customer_s_first_mail_on_a_ticket_an_agent_opened_may_cc(agent, run_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.open_ticket(None, actor=agent, to=("email", "jane@example.org", "Jane"),
                                      subject="Your order", text="It is delayed.")
    run_tasks()
    msgid = django_mail.outbox[-1].extra_headers["Message-ID"]
    ingest_raw(mail(msgid="<j1@example.org>", headers=f"In-Reply-To: {msgid}\r\nCc: Bob <bob@example.org>\r\n"))
    ingest_raw(mail(msgid="<j2@example.org>", headers=f"In-Reply-To: {msgid}\r\nCc: Eve <eve@evil.test>\r\n"))
    assert participants(ticket) == ["bob@example.org"]


def test_the_console_shows_who_a_reply_goes_to_before_sending(thread, console):
    ticket, _msgid, _send = thread
    page = console.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert ('id="reply-recipients">This reply goes to <strong>jane@example.org</strong>, copied to '
            'bob@example.org, and to anyone you add in Cc.</p>') in page
