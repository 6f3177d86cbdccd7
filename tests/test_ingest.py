"""services.ingest(): identity resolution, threading, idempotency, events after commit."""

import pytest
from django.db import transaction

from tests.factories import attachment, inbound
from tickets import services
from tickets.channels import ThreadHints
from tickets.models import Attachment, Customer, Event, Identity, Message, Ticket

pytestmark = pytest.mark.django_db


def test_a_first_message_creates_customer_identity_ticket_message_and_events(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = services.ingest(inbound("Ada@Example.COM", "Charged twice", sender_name="Ada", subject="Billing"))
    assert result.created and result.ticket_created
    identity = Identity.objects.get()
    assert (identity.channel, identity.address, identity.display_name) == ("email", "ada@example.com", "Ada")
    ticket = Ticket.objects.get()
    assert ticket.customer == identity.customer and ticket.subject == "Billing"
    assert ticket.status == Ticket.Status.NEW and ticket.waiting_since is not None
    message = result.message
    assert message.ticket == ticket and message.customer == ticket.customer and message.text == "Charged twice"
    kinds = list(Event.objects.order_by("seq").values_list("kind", flat=True))
    assert kinds == ["ticket.created", "message.created"]
    seqs = [e.seq for e in Event.objects.order_by("seq")]
    assert ("agents", seqs[-1]) in published and (f"ticket-{ticket.pk}", seqs[-1]) in published


def test_a_replayed_message_returns_the_existing_row_and_publishes_nothing(published, django_capture_on_commit_callbacks):
    msg = inbound("ada@example.com", "once")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.ingest(msg)
    rung = len(published)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.ingest(msg)
    assert not again.created and again.message.pk == first.message.pk
    assert callbacks == [] and len(published) == rung
    assert Message.objects.count() == 1 and Event.objects.filter(kind="message.created").count() == 1


def test_a_rolled_back_ingest_publishes_nothing(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError, match="boom"):
            with transaction.atomic():
                services.ingest(inbound("ada@example.com", "never"))
                raise RuntimeError("boom")
    assert callbacks == [] and published == []
    assert Message.objects.count() == 0 and Event.objects.count() == 0 and Customer.objects.count() == 0


def test_a_committed_ingest_publishes_exactly_once(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = services.ingest(inbound("ada@example.com", "hi"))
    # A new ticket and its message: two events, one doorbell per group carrying the last seq
    # (a ring means "read up to here"; both events are at or below it).
    seqs = sorted(Event.objects.values_list("seq", flat=True))
    assert [kind for kind in Event.objects.order_by("seq").values_list("kind", flat=True)] == \
        ["ticket.created", "message.created"]
    ticket = result.message.ticket
    assert sorted(published) == sorted([("agents", seqs[-1]), (f"ticket-{ticket.pk}", seqs[-1]),
                                        (f"customer-{ticket.customer_id}", seqs[-1])])


def test_the_same_customer_on_the_same_channel_joins_their_open_ticket():
    first = services.ingest(inbound("+14155550100", "one", channel="sms"))
    second = services.ingest(inbound("(415) 555-0100".replace("(", "+1 ("), "two", channel="sms"))
    assert second.message.ticket_id == first.message.ticket_id
    assert Identity.objects.get().address == "+14155550100"


def test_another_channel_opens_its_own_ticket_for_now():
    services.ingest(inbound("+14155550100", "sms", channel="sms"))
    services.ingest(inbound("ada@example.com", "mail"))
    assert Ticket.objects.count() == 2 and Customer.objects.count() == 2


def test_a_solved_ticket_reopens_and_a_closed_one_starts_a_linked_ticket():
    first = services.ingest(inbound("ada@example.com", "one")).message.ticket
    services.set_status(first, Ticket.Status.SOLVED)
    reopened = services.ingest(inbound("ada@example.com", "two")).message.ticket
    assert reopened.pk == first.pk
    reopened.refresh_from_db()
    assert reopened.status == Ticket.Status.OPEN
    services.set_status(reopened, Ticket.Status.CLOSED)
    follow_up = services.ingest(inbound("ada@example.com", "three")).message.ticket
    assert follow_up.pk != first.pk and follow_up.related_to_id == first.pk


def test_a_verified_thread_hint_joins_only_when_the_sender_is_a_participant():
    ada_ticket = services.ingest(inbound("ada@example.com", "mine")).message.ticket
    other_ticket = services.ingest(inbound("ada@example.com", "new thread", hints=ThreadHints(join_open_ticket=False))).message.ticket
    assert other_ticket.pk != ada_ticket.pk
    joined = services.ingest(inbound("ada@example.com", "reply", hint={"ticket_id": ada_ticket.pk}))
    assert joined.message.ticket_id == ada_ticket.pk
    # Someone else claiming Ada's ticket gets a new ticket of their own, linked as related.
    intruder = services.ingest(inbound("mallory@example.com", "let me in", hint={"ticket_id": ada_ticket.pk}))
    assert intruder.message.ticket_id != ada_ticket.pk
    assert intruder.message.ticket.related_to_id == ada_ticket.pk
    assert intruder.message.ticket.customer_id != ada_ticket.customer_id


def test_a_participant_address_may_reply_into_the_ticket():
    ticket = services.ingest(inbound("ada@example.com", "cc my colleague")).message.ticket
    services.add_participant(ticket, "email", "Bob@Example.com")
    reply = services.ingest(inbound("bob@example.com", "hello from bob", hint={"ticket_id": ticket.pk}))
    assert reply.message.ticket_id == ticket.pk
    assert reply.message.customer_id == ticket.customer_id  # the conversation's history
    assert reply.message.identity.address == "bob@example.com"


def test_reply_to_external_ids_thread_to_the_earlier_message():
    first = services.ingest(inbound("ada@example.com", "one", external_id="<a@x>"))
    services.ingest(inbound("ada@example.com", "elsewhere", hints=ThreadHints(join_open_ticket=False)))
    reply = services.ingest(inbound("ada@example.com", "re", hint={"reply_to_external_ids": ("<a@x>",), "join_open_ticket": False}))
    assert reply.message.ticket_id == first.message.ticket_id


def test_a_subject_tag_alone_never_threads_it_only_links():
    victim = services.ingest(inbound("ada@example.com", "private")).message.ticket
    spoof = services.ingest(inbound("eve@example.com", f"[#{victim.pk}] re", hint={"related_ticket_id": victim.pk}))
    assert spoof.message.ticket_id != victim.pk and spoof.message.ticket.related_to_id == victim.pk


def test_linked_identities_join_the_customer_who_owns_the_number():
    sms = services.ingest(inbound("+447700900123", "sms", channel="sms"))
    wa = services.ingest(inbound("447700900123", "wa", channel="whatsapp",
                                 linked_identities=(("sms", "+447700900123"),)))
    assert wa.message.customer_id == sms.message.customer_id
    assert Identity.objects.get(channel="whatsapp").address == "+447700900123"
    assert Customer.objects.count() == 1


def test_html_is_sanitised_on_the_way_in():
    html = '<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:alert(1)">x</a><img src="cid:logo"></p>'
    message = services.ingest(inbound("ada@example.com", "hi", html=html)).message
    assert "script" not in message.html and "onclick" not in message.html and "javascript" not in message.html
    assert 'src="cid:logo"' in message.html


def test_attachments_are_stored_under_server_names_and_oversize_is_refused(settings):
    settings.HELPDESK_MAX_ATTACHMENT_BYTES = 10
    message = services.ingest(inbound("ada@example.com", "files", attachments=(
        attachment("../../etc/passwd", b"tiny"),
        attachment("huge.bin", b"x" * 11),
    ))).message
    small, huge = message.attachments.order_by("pk")
    assert small.filename == "passwd" and small.state == Attachment.State.STORED and small.size == 4
    assert "passwd" not in small.file.name and small.file.read() == b"tiny"
    assert huge.state == Attachment.State.FAILED and "limit" in huge.error and not huge.file


def test_remote_media_is_fetched_in_the_background(run_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = services.ingest(inbound("visitor-9", "photo", channel="fake", adapter="fake", attachments=(
            attachment("photo.jpg", None, url="https://media.example/1", content_type="image/jpeg"),))).message
    pending = message.attachments.get()
    assert pending.state == Attachment.State.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    pending.refresh_from_db()
    assert pending.state == Attachment.State.STORED and pending.file.read() == b"content of https://media.example/1"
    assert Event.objects.filter(kind="message.updated", message=message).exists()


def test_opt_out_and_edits_are_applied_to_what_exists():
    services.ingest(inbound("+14155550100", "STOP", channel="sms", identity_signal="opt_out"))
    assert Identity.objects.get().opted_out_at is not None
    original = services.ingest(inbound("tg-1", "helo", channel="telegram", external_id="tg-msg-1")).message
    services.ingest(inbound("tg-1", "hello", channel="telegram", external_id="tg-edit-1", replaces="tg-msg-1"))
    services.ingest(inbound("tg-1", "hello", channel="telegram", external_id="tg-edit-1", replaces="tg-msg-1"))
    original.refresh_from_db()
    assert original.text == "hello" and original.meta["edits"][0]["previous_text"] == "helo"
    assert len(original.meta["edits"]) == 1
    assert Message.objects.filter(channel="telegram").count() == 1


def test_an_invalid_address_is_a_clear_error_and_stores_nothing():
    from tickets.addresses import InvalidAddress

    with pytest.raises(InvalidAddress, match="not a phone number"):
        services.ingest(inbound("not-a-number", "x", channel="sms"))
    assert Message.objects.count() == 0 and Customer.objects.count() == 0
