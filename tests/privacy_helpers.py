"""Shared pieces of the data-rights tests: one customer per channel, written through that
channel's real entry point (signed webhook, MTA pipe, chat API), and a scan of every database
row for what must not survive an erasure."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.fakes.social import post_meta, post_telegram
from tests.fakes.twilio import form_body, sign
from tests.livechat_helpers import ORIGIN, make_inbox
from tickets import services
from tickets.models import Attachment, Customer, Identity

SECRET = "zanzibarian"  # a word only this customer ever wrote: searchable, findable in any row
NAME = "Jane Roe"


@dataclass
class Person:
    channel: str
    customer: Customer
    needles: list[str] = field(default_factory=list)  # what must be gone after the erasure

    @property
    def ticket(self):
        return self.customer.tickets.order_by("pk").first()


def _twilio(client, path, params):
    signature = sign(settings.HELPDESK_PUBLIC_URL + path, params, settings.TWILIO_AUTH_TOKEN)
    response = client.post(path, form_body(params), content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.content


def _twilio_params(sid, sender, to, text, **extra):
    return {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": settings.TWILIO_ACCOUNT_SID, "From": sender,
            "To": to, "Body": text, "NumMedia": "0", "ApiVersion": "2010-04-01", **extra}


def write_email(client, tmp_path):
    mail = (
        f"From: {NAME} <jane.roe@example.org>\r\nTo: support@helpdesk.example.com\r\n"
        f"Subject: My {SECRET} parcel\r\nMessage-ID: <zz-4521@example.org>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=BOUNDARY\r\n\r\n"
        f"--BOUNDARY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy {SECRET} parcel never came.\r\n"
        "--BOUNDARY\r\nContent-Type: text/plain; name=passport.txt\r\n"
        "Content-Disposition: attachment; filename=passport.txt\r\n\r\n"
        f"passport of {NAME}, {SECRET}\r\n--BOUNDARY--\r\n")
    path = Path(tmp_path) / "mail.eml"
    path.write_bytes(mail.encode())
    call_command("ingest_email", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    return "email", "jane.roe@example.org", ["jane.roe@example.org", "zz-4521@example.org"]


def write_sms(client, tmp_path):
    _twilio(client, "/channels/twilio/sms/",
            _twilio_params("SM0000000000000000000000000000zz01", "+14155550199", "+15005550006",
                           f"Hi it's {NAME}, my {SECRET} order"))
    return "sms", "+14155550199", ["+14155550199", "14155550199", "SM0000000000000000000000000000zz01"]


def write_whatsapp(client, tmp_path):
    _twilio(client, "/channels/twilio/whatsapp/",
            _twilio_params("SM0000000000000000000000000000zz02", "whatsapp:+14155550188", "whatsapp:+14155238886",
                           f"my {SECRET} order", WaId="14155550188", ProfileName=NAME))
    return "whatsapp", "+14155550188", ["+14155550188", "14155550188"]


def _meta_event(obj, sender, mid):
    return {"object": obj, "entry": [{"id": "PAGE-1", "time": 1785000001234, "messaging": [
        {"sender": {"id": sender}, "recipient": {"id": "PAGE-1"}, "timestamp": 1785000000987,
         "message": {"mid": mid, "text": f"my {SECRET} order"}}]}]}


def write_messenger(client, tmp_path):
    assert post_meta(client, _meta_event("page", "7001234567890123", "m_zz_messenger")).status_code == 200
    return "messenger", "7001234567890123", ["7001234567890123", "m_zz_messenger"]


def write_instagram(client, tmp_path):
    assert post_meta(client, _meta_event("instagram", "1789012345678901", "m_zz_instagram")).status_code == 200
    return "instagram", "1789012345678901", ["1789012345678901", "m_zz_instagram"]


def write_telegram(client, tmp_path):
    update = {"update_id": 990001, "message": {
        "message_id": 77, "date": 1785000000, "text": f"my {SECRET} order",
        "from": {"id": 5550001234, "is_bot": False, "first_name": "Jane", "last_name": "Roe"},
        "chat": {"id": 5550001234, "first_name": "Jane", "type": "private"}}}
    assert post_telegram(client, update).status_code == 200
    return "telegram", "5550001234", ["5550001234"]


def write_chat(client, tmp_path):
    make_inbox()
    started = client.post("/chat/api/shop/session/", "{}",
                          content_type="application/json", headers={"Origin": ORIGIN})
    assert started.status_code == 200, started.content
    token = started.json()["token"]
    upload = client.post("/chat/api/shop/upload/", {
        "file": SimpleUploadedFile("id-card.txt", f"id card of {NAME}".encode(), content_type="text/plain"),
        "client_id": "c-zz-1", "text": f"my {SECRET} order"},
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {token}"})
    assert upload.status_code == 201, upload.content
    # The pre-chat form (sent over the visitor's socket): a name and a contact email.
    from livechat import conversation
    from livechat.models import VisitorSession

    conversation.set_contact(VisitorSession.objects.get(), name=NAME, email="jane.chat@example.org")
    address = Identity.objects.get(channel="chat").address
    return "chat", address, [address, "jane.chat@example.org"]


WRITERS = {"email": write_email, "sms": write_sms, "whatsapp": write_whatsapp, "messenger": write_messenger,
           "instagram": write_instagram, "telegram": write_telegram, "chat": write_chat}


def person(kind, client, tmp_path, agent) -> Person:
    """A customer who wrote on `kind`, with an agent's reply carrying a file and a note about them."""
    channel, address, needles = WRITERS[kind](client, tmp_path)
    identity = Identity.objects.get(channel=channel, address=address)
    customer = identity.customer
    if not customer.name:
        services.update_customer(customer, actor=agent, name=NAME)
    services.update_customer(customer, actor=agent, organisation="Roe Imports", notes=f"prefers {SECRET} post")
    ticket = customer.tickets.get()
    from tickets.channels import InboundAttachment

    services.reply(ticket, author=agent, text=f"Dear {NAME}, about your {SECRET} order", client_id=f"r-{kind}",
                   attachments=[InboundAttachment(filename="label.txt", content_type="text/plain",
                                                  content=f"label for {NAME}".encode())])
    services.note(ticket, author=agent, text=f"{NAME} called about the {SECRET} order")
    return Person(channel, customer, [*needles, SECRET, NAME])


def attachment_files(customer) -> list[Path]:
    names = Attachment.objects.filter(message__customer=customer).exclude(file="").values_list("file", flat=True)
    return [Path(settings.MEDIA_ROOT) / name for name in names]


def rows_mentioning(needles) -> list[str]:
    """Every row of every model, as text (binary columns decoded), that contains a needle."""
    lowered = [n.lower() for n in needles]
    found = []
    for model in apps.get_models():
        for row in model._base_manager.all():
            text = " ".join(_text(getattr(row, f.attname)) for f in model._meta.concrete_fields).lower()
            hits = [n for n in lowered if n in text]
            if hits:
                found.append(f"{model._meta.label} {row.pk}: {hits}")
    return found


def _text(value) -> str:
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).decode("latin-1")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


__all__ = ["NAME", "SECRET", "Person", "WRITERS", "attachment_files", "person", "rows_mentioning"]
