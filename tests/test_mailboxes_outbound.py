"""Replies from the address the customer wrote to: through the mailbox's own SMTP server (a real
aiosmtpd on loopback) or the configured mailer, threaded with that address's tokens, and the
customer's answer to it lands back on the same ticket."""

from __future__ import annotations

import email
import secrets
from email import policy

import pytest
from django.core import mail as django_mail

from channels_email import tokens
from mailboxes import runner
from mailboxes.models import Mailbox
from tests import mailbox_helpers
from tests.mailbox_helpers import make_mailbox
from tests.mailserver import SmtpServer, mail
from tickets import services
from tickets.models import Message

pytestmark = pytest.mark.django_db
dovecot = mailbox_helpers.dovecot  # fixture


@pytest.fixture
def smtp_server():
    with SmtpServer(users={"billing-smtp": "smtp-pw"}) as server:
        yield server


def reply_and_deliver(ticket, agent, run_tasks, capture, text="We refunded you."):
    with capture(execute=True):
        reply = services.reply(ticket, author=agent, text=text)
    with capture(execute=True):
        run_tasks()
    reply.refresh_from_db()
    return reply


def test_a_reply_goes_out_from_the_mailbox_through_its_smtp_and_threads_back(
        dovecot, smtp_server, agent, run_tasks, django_capture_on_commit_callbacks):
    account = f"billing-{secrets.token_hex(3)}@shop.example"
    first = mail(1, to=account, subject="Refund please", message_id="<first-1@customers.example>")
    dovecot.append(account, first)
    mailbox = make_mailbox(dovecot, account, outgoing=Mailbox.Outgoing.SMTP, smtp_host="127.0.0.1",
                           smtp_port=smtp_server.port, smtp_security=Mailbox.Security.NONE,
                           smtp_username="billing-smtp")
    mailbox.set_smtp_password("smtp-pw")
    mailbox.save()
    assert runner.sync_once(mailbox, "owner") == 1
    ticket = Message.objects.get().ticket

    reply = reply_and_deliver(ticket, agent, run_tasks, django_capture_on_commit_callbacks)

    assert reply.status == Message.Status.SENT, reply.error_message
    assert smtp_server.auth_log == [("PLAIN", "billing-smtp")]
    envelope = smtp_server.messages[0]
    sent = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert envelope.mail_from == account and envelope.rcpt_tos == ["customer1@customers.example"]
    assert account in sent["From"]
    assert sent["Reply-To"] == tokens.reply_address(ticket.pk, account)
    assert sent["Reply-To"].endswith("@shop.example") and sent["In-Reply-To"] == "<first-1@customers.example>"
    assert tokens.ticket_from_message_ids([sent["Message-ID"]]) == ticket.pk
    assert not django_mail.outbox  # not through the configured mailer

    # The customer answers (to the plus-address, quoting our Message-ID): same ticket.
    answer = mail(2, sender="customer1@customers.example", to=sent["Reply-To"], subject="Re: Refund please",
                  extra=f"In-Reply-To: {sent['Message-ID']}\r\nReferences: {sent['Message-ID']}\r\n")
    dovecot.append(account, answer)
    assert runner.sync_once(mailbox, "owner") == 1
    assert list(Message.objects.filter(direction="inbound").values_list("ticket", flat=True)) == [ticket.pk] * 2


def test_with_the_configured_mailer_the_reply_still_comes_from_the_mailbox_address(
        dovecot, agent, run_tasks, django_capture_on_commit_callbacks):
    account = f"sales-{secrets.token_hex(3)}@shop.example"
    dovecot.append(account, mail(1, to=account))
    mailbox = make_mailbox(dovecot, account)  # outgoing: the configured mailer (locmem in tests)
    assert runner.sync_once(mailbox, "owner") == 1
    ticket = Message.objects.get().ticket
    reply = reply_and_deliver(ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    assert reply.status == Message.Status.SENT
    sent = [m for m in django_mail.outbox if m.to == ["customer1@customers.example"] and "Auto-Submitted" not in m.extra_headers]
    assert len(sent) == 1 and sent[0].from_email.endswith(f"<{account}>")
    assert sent[0].extra_headers["Reply-To"] == tokens.reply_address(ticket.pk, account)


def test_live_mail_is_acknowledged_from_the_mailbox_but_a_first_sync_backlog_is_not(
        dovecot, run_tasks, django_capture_on_commit_callbacks, settings):
    settings.HELPDESK_EMAIL_AUTO_ACK = True
    account = f"help-{secrets.token_hex(3)}@shop.example"
    dovecot.append(account, mail(1, to=account))
    mailbox = make_mailbox(dovecot, account)
    with django_capture_on_commit_callbacks(execute=True):
        assert runner.sync_once(mailbox, "owner") == 1
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    assert django_mail.outbox == []  # history: no "we got your message" for last year's mail

    dovecot.append(account, mail(2, to=account))
    with django_capture_on_commit_callbacks(execute=True):
        assert runner.sync_once(mailbox, "owner") == 1
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    [ack] = django_mail.outbox
    assert ack.to == ["customer2@customers.example"] and account in ack.from_email
    assert ack.extra_headers["Auto-Submitted"] == "auto-replied"
    assert ack.extra_headers["Reply-To"].endswith("@shop.example")
