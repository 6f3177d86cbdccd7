"""A message id is chosen by whoever sends (an email's Message-ID above all): one reusing
another sender's id is stored as a new, flagged message, never dropped as a replay, and the
pipe prints the newcomer's own ticket (issue 12)."""

import io

import pytest
from django.core.management import call_command

from channels_email.pipe import ingest_raw
from tests.email_helpers import mail
from tests.factories import inbound
from tickets import services
from tickets.models import InboundPayload, Message

pytestmark = pytest.mark.django_db

VICTIM = "Vic Tim <victim@corp.test>"
MALLORY = "Mallory <mallory@evil.test>"
MSGID = "<order-4521@corp.test>"


def pipe(raw):
    out = io.StringIO()
    path = io.BytesIO(raw)
    import sys
    real, sys.stdin = sys.stdin, io.TextIOWrapper(path)
    try:
        call_command("ingest_email", "-", stdout=out)
    finally:
        sys.stdin = real
    return out.getvalue().strip()


def test_a_mail_reusing_another_senders_message_id_is_stored_flagged_on_its_own_ticket():
    victim_ref = pipe(mail(sender=VICTIM, msgid=MSGID, body="my private order details"))
    mallory_ref = pipe(mail(sender=MALLORY, msgid=MSGID, body="same id, other sender"))

    victim, mallory = Message.objects.order_by("pk")
    assert mallory_ref == f"#{mallory.ticket_id}" != victim_ref  # not the victim's ticket
    assert mallory.identity.address == "mallory@evil.test" and mallory.text == "same id, other sender"
    assert mallory.ticket.customer_id != victim.customer_id
    assert mallory.meta["id_collision"] == {"external_id": MSGID, "message": victim.pk}
    assert mallory.meta["message_id"] == MSGID and victim.external_id == MSGID
    assert "id_collision" not in victim.meta


def test_replays_of_either_mail_are_still_one_message_each():
    for _ in range(2):
        ingest_raw(mail(sender=VICTIM, msgid=MSGID))
        ingest_raw(mail(sender=MALLORY, msgid=MSGID))
    assert Message.objects.count() == 2
    assert InboundPayload.objects.filter(state="processed").count() == 4


def test_a_mail_reusing_the_message_id_of_our_own_reply_is_not_dropped(agent):
    first = services.ingest(inbound("victim@corp.test", "hello", channel="email", external_id=MSGID)).message
    ours = services.reply(first.ticket, author=agent, text="Your refund is on its way")
    Message.objects.filter(pk=ours.pk).update(external_id="<hd.1-abc.2@helpdesk.example.com>")
    result = services.ingest(inbound("mallory@evil.test", "hi", channel="email",
                                     external_id="<hd.1-abc.2@helpdesk.example.com>"))
    assert result.created and result.message.pk != ours.pk
    assert result.message.meta["id_collision"]["message"] == ours.pk


@pytest.mark.parametrize("channel, victim, attacker", [
    ("sms", "+14155550101", "+14155550102"), ("telegram", "1001", "1002")])
def test_every_channel_deduplicates_on_id_and_sender(channel, victim, attacker):
    services.ingest(inbound(victim, "one", channel=channel, external_id="id-1"))
    again = services.ingest(inbound(victim, "one", channel=channel, external_id="id-1"))
    other = services.ingest(inbound(attacker, "two", channel=channel, external_id="id-1"))
    assert not again.created and other.created
    assert Message.objects.count() == 2


def test_import_mbox_imports_a_colliding_mail_from_another_sender(tmp_path):
    import mailbox

    ingest_raw(mail(sender=VICTIM, msgid=MSGID))
    box = mailbox.mbox(tmp_path / "a.mbox")
    box.add(mail(sender=MALLORY, msgid=MSGID, subject="another"))
    box.flush()
    out = io.StringIO()
    call_command("import_mbox", str(tmp_path / "a.mbox"), "--no-progress", stdout=out)
    assert "1 imported" in out.getvalue() and Message.objects.count() == 2


def test_the_console_flags_the_colliding_message(console):
    ingest_raw(mail(sender=VICTIM, msgid=MSGID))
    ingest_raw(mail(sender=MALLORY, msgid=MSGID))
    mallory = Message.objects.order_by("pk").last()
    page = console.get(f"/console/tickets/{mallory.ticket_id}/").content.decode()
    assert page.count('class="warn id-collision"') == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_racing_with_one_message_id_store_one_message_each():
    """Real concurrency (PostgreSQL): 40 threads, two senders, one Message-ID, replays included."""
    from tests.factories import run_at_once

    senders = ["victim@corp.test", "mallory@evil.test"]
    errors = run_at_once(lambda i: services.ingest(inbound(senders[i % 2], f"from {senders[i % 2]}",
                                                          channel="email", external_id=MSGID)), count=40)
    assert errors == []
    assert sorted(Message.objects.values_list("identity__address", flat=True)) == sorted(senders)
    assert Message.objects.filter(meta__has_key="id_collision").count() == 1
