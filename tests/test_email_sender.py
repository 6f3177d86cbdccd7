"""Who wrote a mail is the From address and nothing else (issue 12, Mailsploit): addresses are
parsed before display names are decoded, Reply-To/Sender never stand in for a broken From, and
an unparseable From is quarantined. Through the MTA pipe and the ESP webhooks that hand us
headers (Mailgun's parsed form, Postmark's JSON)."""

import json
from urllib.parse import urlencode

import pytest

from channels_email.pipe import ingest_raw
from tests.contract import WebhookRequest, post
from tests.email_helpers import BASIC_AUTH, fixture_json, mail, mailgun_signed
from tickets.models import Identity, InboundPayload, Message

pytestmark = pytest.mark.django_db

QP = "=?utf-8?q?victim=40corp=2Etest=2C?= <mallory@evil.test>"
B64 = "=?utf-8?b?dmljdGltQGNvcnAudGVzdCw=?= <mallory@evil.test>"


def sender_of_only_message():
    message = Message.objects.select_related("identity").get()
    return message.identity.address, message.author_name


@pytest.mark.parametrize("from_header", [QP, B64], ids=["quoted-printable", "base64"])
def test_an_encoded_display_name_cannot_name_another_sender(from_header):
    ingest_raw(mail(sender=from_header, msgid="<spoof@evil.test>"))
    address, shown = sender_of_only_message()
    assert address == "mallory@evil.test"
    assert shown == "mallory@evil.test"  # the decoded name claims an address: not shown as the author
    assert not Identity.objects.filter(address="victim@corp.test").exists()


@pytest.mark.parametrize("headers, from_header", [
    ("Reply-To: victim@corp.test\r\n", "victim@corp.test <mallory@evil.test>"),
    ("Sender: victim@corp.test\r\n", "undisclosed"),
    ("Reply-To: victim@corp.test\r\n", "<<>>"),
    ("", "victim@corp.test, mallory@evil.test"),
], ids=["unparseable-with-reply-to", "no-address-with-sender", "empty-with-reply-to", "two-senders"])
def test_a_mail_without_one_parseable_from_is_quarantined_never_attributed(headers, from_header):
    payload, items = ingest_raw(mail(sender=from_header, headers=headers, msgid="<broken@evil.test>"))
    payload.refresh_from_db()
    assert items == [] and payload.state == InboundPayload.State.QUARANTINED
    assert payload.error.startswith("no single parseable From address")
    assert not Message.objects.exists() and not Identity.objects.exists()


def test_a_second_from_header_is_quarantined():
    raw = mail(sender="Jane <jane@example.org>", headers="From: victim@corp.test\r\n")
    payload, _items = ingest_raw(raw)
    payload.refresh_from_db()
    assert payload.state == InboundPayload.State.QUARANTINED and not Message.objects.exists()


@pytest.mark.parametrize("from_header, name, address", [
    ("=?utf-8?q?=E2=80=B9Support=E2=80=BA?= <help@vendor.test>", "‹Support›", "help@vendor.test"),
    ("=?utf-8?b?SsO2cmcgTcO8bGxlcg==?= <jorg@example.de>", "Jörg Müller", "jorg@example.de"),
    ('"Jane (jane@example.org)" <jane@example.org>', "Jane (jane@example.org)", "jane@example.org"),
])
def test_legitimately_encoded_names_are_decoded_and_kept(from_header, name, address):
    payload, _items = ingest_raw(mail(sender=from_header))
    payload.refresh_from_db()
    assert payload.state == InboundPayload.State.PROCESSED
    assert sender_of_only_message() == (address, name)


def test_mailgun_parsed_headers_are_attributed_to_the_from_address(client):
    fields = fixture_json("mailgun_inbound_parsed.json")
    headers = [[k, QP if k == "From" else v] for k, v in json.loads(fields["message-headers"])]
    fields = mailgun_signed({**fields, "from": QP, "From": QP, "message-headers": json.dumps(headers)})
    response = post(client, "/anymail/mailgun/inbound/",
                    WebhookRequest(urlencode(fields).encode(), "application/x-www-form-urlencoded",
                                   {"Authorization": BASIC_AUTH}))
    assert response.status_code == 200
    assert sender_of_only_message()[0] == "mallory@evil.test"


def test_postmark_from_is_the_address_not_the_name(client):
    event = fixture_json("postmark_inbound.json")
    event.update(From="mallory@evil.test", FromName="victim@corp.test,",
                 FromFull={"Email": "mallory@evil.test", "Name": "victim@corp.test,", "MailboxHash": ""},
                 ReplyTo="victim@corp.test")
    response = post(client, "/anymail/postmark/inbound/",
                    WebhookRequest(json.dumps(event).encode(), "application/json", {"Authorization": BASIC_AUTH}))
    assert response.status_code == 200
    assert sender_of_only_message()[0] == "mallory@evil.test"


def test_mailgun_raw_mime_is_attributed_to_the_from_address(client):
    fields = mailgun_signed({"recipient": "support@helpdesk.example.com", "sender": "victim@corp.test",
                             "body-mime": mail(sender=B64, msgid="<raw@evil.test>").decode()})
    response = post(client, "/anymail/mailgun/inbound_mime/",
                    WebhookRequest(urlencode(fields).encode(), "application/x-www-form-urlencoded",
                                   {"Authorization": BASIC_AUTH}))
    assert response.status_code == 200
    assert sender_of_only_message()[0] == "mallory@evil.test"
