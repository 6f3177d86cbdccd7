"""The round trip: a customer mails in, an agent replies (captured from the mail backend), and
the customer's client replies (a) with threading headers, (b) only to the plus-address, (c) a
different sender with only the subject tag. (a) and (b) join the ticket; (c) opens a new ticket
linked as possibly related. Plus acknowledgements, Cc participants, bounces and tracking."""

import json

import pytest
from django.core import mail as django_mail

from channels_email import tokens
from channels_email.pipe import ingest_raw
from tests.email_helpers import BASIC_AUTH, corpus, mail
from tickets import services
from tickets.models import Message, Ticket


@pytest.fixture
def conversation(agent, run_tasks, django_capture_on_commit_callbacks):
    """Jane writes in, the agent answers; returns (ticket, the reply mail as sent)."""
    with django_capture_on_commit_callbacks(execute=True):
        _p, items = ingest_raw(mail(headers="Cc: Bob <bob@example.org>\r\n"))
    ticket = items[0].message.ticket
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, author=agent, text="We are on it.\nSorry!", client_id="r1")
    run_tasks()
    replies = [m for m in django_mail.outbox if "Auto-Submitted" not in m.extra_headers]
    assert len(replies) == 1
    return ticket, replies[0]


def _reply_ids(ticket):
    return list(Message.objects.filter(ticket=ticket, direction="inbound").values_list("external_id", flat=True))


@pytest.mark.django_db
def test_outbound_reply_carries_our_threading_headers(conversation):
    ticket, sent = conversation
    outbound = Message.objects.get(direction="outbound")
    assert outbound.status == "sent"
    assert sent.extra_headers["Message-ID"] == outbound.external_id == tokens.message_id(ticket.pk, str(outbound.pk))
    assert sent.extra_headers["Reply-To"] == tokens.reply_address(ticket.pk)
    assert sent.extra_headers["In-Reply-To"] == "<first-1@example.org>"
    assert f"[#{ticket.pk}]" in sent.subject and sent.subject.startswith("Re: My order never arrived")
    assert sent.to == ["jane@example.org"] and sent.cc == ["bob@example.org"]  # the Cc'd participant
    html = sent.alternatives[0].content
    assert "We are on it.<br>Sorry!" in html and "We are on it." in sent.body


@pytest.mark.django_db
def test_a_reply_with_threading_headers_joins_the_ticket(conversation):
    ticket, sent = conversation
    msgid = sent.extra_headers["Message-ID"]
    _p, items = ingest_raw(mail(subject="Re: My order", body="Thanks!", msgid="<a@example.org>",
                                headers=f"In-Reply-To: {msgid}\r\nReferences: <first-1@example.org> {msgid}\r\n"))
    assert items[0].message.ticket_id == ticket.pk and not items[0].ticket_created


@pytest.mark.django_db
def test_a_reply_to_the_plus_address_without_headers_joins_the_ticket(conversation):
    ticket, sent = conversation
    _p, items = ingest_raw(mail(subject="one more thing", msgid="<b@example.org>", to=sent.extra_headers["Reply-To"]))
    assert items[0].message.ticket_id == ticket.pk


@pytest.mark.django_db
def test_a_subject_tag_from_another_sender_opens_a_related_ticket(conversation):
    ticket, _sent = conversation
    _p, items = ingest_raw(mail(sender="Mallory <mallory@evil.example>", subject=f"Re: refund [#{ticket.pk}]",
                                msgid="<c@evil.example>"))
    new = items[0].message.ticket
    assert new.pk != ticket.pk and items[0].ticket_created
    assert new.related_to_id == ticket.pk


@pytest.mark.django_db
def test_a_valid_token_from_a_stranger_does_not_join(conversation):
    ticket, sent = conversation
    msgid = sent.extra_headers["Message-ID"]
    _p, items = ingest_raw(mail(sender="mallory@evil.example", msgid="<d@evil.example>",
                                headers=f"In-Reply-To: {msgid}\r\n", to=sent.extra_headers["Reply-To"]))
    assert items[0].message.ticket_id != ticket.pk
    assert items[0].message.ticket.related_to_id == ticket.pk


@pytest.mark.django_db
def test_a_forged_token_or_foreign_in_reply_to_does_not_thread(conversation):
    ticket, _sent = conversation
    forged = f"<hd.{ticket.pk}-0123456789abcdef.1@helpdesk.example.com>"
    _p, items = ingest_raw(mail(sender="jane@example.org", msgid="<e@example.org>", subject="new question",
                                headers=f"In-Reply-To: {forged}\r\n"))
    assert items[0].message.ticket_id != ticket.pk  # join_open_ticket is off for email
    _p, items = ingest_raw(mail(sender="mallory@evil.example", msgid="<f@evil.example>",
                                headers="In-Reply-To: <first-1@example.org>\r\n"))
    assert items[0].message.ticket.customer_id != ticket.customer_id


@pytest.mark.django_db
def test_a_forged_from_our_own_address_is_quarantined(conversation):
    ticket, sent = conversation
    payload, items = ingest_raw(mail(sender="Support <support@helpdesk.example.com>", msgid="<g@x.example>",
                                     headers=f"In-Reply-To: {sent.extra_headers['Message-ID']}\r\n"))
    payload.refresh_from_db()
    assert items == [] and payload.state == "quarantined"
    assert ticket.messages.count() == 2


@pytest.mark.django_db
def test_a_cc_participant_can_reply_into_the_ticket(conversation):
    ticket, sent = conversation
    assert ["email", "bob@example.org"] in Ticket.objects.get(pk=ticket.pk).meta["participants"]
    _p, items = ingest_raw(mail(sender="Bob <bob@example.org>", msgid="<h@example.org>",
                                headers=f"In-Reply-To: {sent.extra_headers['Message-ID']}\r\n"))
    assert items[0].message.ticket_id == ticket.pk
    assert items[0].message.customer_id == ticket.customer_id  # part of Jane's conversation


@pytest.mark.django_db
def test_acknowledgements_once_per_sender_per_day_and_never_to_robots(run_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest_raw(mail(msgid="<1@example.org>"))
        ingest_raw(mail(msgid="<2@example.org>", subject="second ticket"))
        ingest_raw(corpus("auto-out-of-office"))
        ingest_raw(corpus("auto-precedence-bulk"))
    run_tasks()
    assert Ticket.objects.count() == 4
    assert len(django_mail.outbox) == 1
    ack = django_mail.outbox[0]
    assert ack.to == ["jane@example.org"]
    assert ack.extra_headers["Auto-Submitted"] == "auto-replied"
    assert ack.extra_headers["In-Reply-To"] == "<1@example.org>"
    ticket = Ticket.objects.order_by("pk").first()
    assert ack.extra_headers["Reply-To"] == tokens.reply_address(ticket.pk)


@pytest.mark.django_db
def test_an_acknowledgement_that_could_not_be_sent_frees_the_day_for_a_later_one(run_tasks, monkeypatch):
    from channels_email import tasks
    from channels_email.models import Acknowledgement
    from tickets.channels import TransientDeliveryError

    real_send = tasks.outbound.send

    def mail_server_down(mail, backend=None):
        raise TransientDeliveryError("connection refused")

    monkeypatch.setattr(tasks.outbound, "send", mail_server_down)
    ingest_raw(mail(msgid="<ack-1@example.org>"))
    ingest_raw(mail(msgid="<ack-2@example.org>", subject="another question"))
    assert Acknowledgement.objects.count() == 1  # claimed once for the day at ingest: one task
    run_tasks()
    assert Acknowledgement.objects.count() == 0 and django_mail.outbox == []

    monkeypatch.setattr(tasks.outbound, "send", real_send)
    ingest_raw(mail(msgid="<ack-3@example.org>", subject="third"))
    run_tasks()
    assert [m.extra_headers["In-Reply-To"] for m in django_mail.outbox] == ["<ack-3@example.org>"]


@pytest.mark.django_db
def test_a_bounce_marks_the_reply_failed_and_opens_no_ticket(conversation):
    ticket, sent = conversation
    dsn = corpus("dsn-postfix-rfc822").replace(b"<hd.1-0000000000000000.1@helpdesk.example.com>",
                                               sent.extra_headers["Message-ID"].encode())
    tickets_before = Ticket.objects.count()
    _p, items = ingest_raw(dsn)
    outbound = Message.objects.get(direction="outbound")
    assert outbound.status == "failed" and outbound.error_code == "5.1.1"
    assert "User unknown" in outbound.error_message
    assert Ticket.objects.count() == tickets_before


@pytest.mark.django_db
def test_a_read_receipt_marks_the_reply_read(conversation):
    _ticket, sent = conversation
    mdn = corpus("mdn-read-receipt").replace(b"<hd.1-0000000000000000.1@helpdesk.example.com>",
                                             sent.extra_headers["Message-ID"].encode())
    ingest_raw(mdn)
    assert Message.objects.get(direction="outbound").status == "read"


@pytest.mark.django_db
def test_tracking_webhook_moves_delivery_status(client, conversation):
    _ticket, sent = conversation
    meta = sent.metadata

    def post(event):
        return client.post("/anymail/postmark/tracking/", json.dumps(event), content_type="application/json",
                           headers={"Authorization": BASIC_AUTH})

    delivered = {"RecordType": "Delivery", "MessageID": "pm-1", "Recipient": "jane@example.org",
                 "DeliveredAt": "2026-07-25T17:20:00Z", "Details": "250 OK", "Metadata": meta}
    assert post(delivered).status_code == 200
    assert Message.objects.get(direction="outbound").status == "delivered"
    bounce = {"RecordType": "Bounce", "MessageID": "pm-1", "Type": "HardBounce", "TypeCode": 1,
              "Email": "jane@example.org", "Description": "The server was unable to deliver your message",
              "Details": "smtp;550 5.1.1 unknown user", "BouncedAt": "2026-07-25T17:21:00Z", "Metadata": meta}
    assert post(bounce).status_code == 200
    assert Message.objects.get(direction="outbound").status == "delivered"  # never moves backward
    assert client.post("/anymail/postmark/tracking/", json.dumps(bounce), content_type="application/json",
                       headers={"Authorization": "Basic eDp5"}).status_code == 403


@pytest.mark.django_db
def test_tracking_bounce_fails_a_sent_reply(client, agent, run_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _p, items = ingest_raw(mail())
        services.reply(items[0].message.ticket, author=agent, text="Hello", client_id="x")
    run_tasks()
    reply = Message.objects.get(direction="outbound")
    bounce = {"RecordType": "Bounce", "MessageID": "pm-2", "Type": "HardBounce", "TypeCode": 1,
              "Email": "jane@example.org", "Description": "Unknown user", "Details": "smtp;550 5.1.1",
              "BouncedAt": "2026-07-25T17:21:00Z", "Metadata": {"helpdesk_message_id": reply.external_id}}
    response = client.post("/anymail/postmark/tracking/", json.dumps(bounce), content_type="application/json",
                           headers={"Authorization": BASIC_AUTH})
    assert response.status_code == 200
    reply.refresh_from_db()
    assert reply.status == "failed" and reply.error_code == "bounced" and "Unknown user" in reply.error_message
