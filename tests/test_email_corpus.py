"""Every message of the real-world-shaped corpus (tests/fixtures/email/make_corpus.py) ingests
through the MTA pipe without an exception and becomes a message, a delivery update or a
quarantine entry; nothing is left failed or lost."""

from pathlib import Path

import pytest

from channels_email.pipe import ingest_raw
from tests.email_helpers import FIXTURES
from tickets.models import InboundPayload, Message
from tickets.services import IngestResult

CORPUS = sorted((FIXTURES / "corpus").glob("*.eml"))
QUARANTINED = {"loop-from-our-address", "malformed-no-from", "malformed-garbage-from", "dsn-nonstandard-bounce",
               "malformed-sender-fallback"}  # the sender is only ever From, never Sender or Reply-To
REPORTS = {"dsn-postfix-rfc822", "dsn-exim-headers", "dsn-delayed", "dsn-unknown-original", "mdn-read-receipt"}


def test_the_corpus_covers_every_kind_of_mail():
    """Not a file count: every family of real-world mail the pipe must survive is represented
    (the family is the file name's first word), and the expected outcomes name real files."""
    families = {path.stem.split("-")[0] for path in CORPUS}
    assert families >= {"attachment", "auto", "calendar", "charset", "client", "dangerous", "dsn", "empty",
                        "html", "large", "loop", "malformed", "mdn", "mime", "multiple", "spoofed"}
    stems = {path.stem for path in CORPUS}
    assert QUARANTINED <= stems and REPORTS <= stems


@pytest.mark.django_db
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_each_message_is_stored_or_quarantined(path: Path):
    payload, items = ingest_raw(path.read_bytes())
    payload.refresh_from_db()
    messages = [i.message for i in items if isinstance(i, IngestResult)]
    if path.stem in QUARANTINED:
        assert payload.state == InboundPayload.State.QUARANTINED and payload.error
        assert Message.objects.count() == 0
    elif path.stem in REPORTS:
        assert payload.state == InboundPayload.State.PROCESSED
        assert Message.objects.count() == 0  # a bounce never opens a ticket
    else:
        assert payload.state == InboundPayload.State.PROCESSED, payload.error
        assert len(messages) == 1 and messages[0].direction == "inbound"
        assert "\x00" not in messages[0].text


@pytest.mark.django_db
@pytest.mark.parametrize("name, expected", [
    ("charset-cp1252-labelled-ascii", "It’s “broken” – and costs € 20."),
    ("charset-iso2022jp-unlabelled", "注文が届きません"),
    ("charset-iso2022jp-labelled", "返品したいです"),
    ("charset-shift-jis", "配送状況を教えてください"),
    ("charset-koi8r", "Где мой заказ?"),
    ("charset-gb2312-base64", "我的订单在哪里？"),
    ("charset-big5", "請問退款"),
    ("charset-latin1-qp", "Grüße aus München"),
    ("charset-unknown-label", "Café ordered twice."),
    ("charset-utf8-base64", "Hvor er min pakke? 📦"),
])
def test_charsets_are_decoded(name, expected):
    _payload, items = ingest_raw((FIXTURES / "corpus" / f"{name}.eml").read_bytes())
    assert expected in items[0].message.text


@pytest.mark.django_db
def test_headers_in_rfc2047_and_raw_8bit_are_decoded():
    _p, items = ingest_raw((FIXTURES / "corpus" / "charset-latin1-qp.eml").read_bytes())
    message = items[0].message
    assert message.subject == "Grüße" and message.author_name == "René Müller"
    _p, items = ingest_raw((FIXTURES / "corpus" / "charset-raw-utf8-headers.eml").read_bytes())
    assert items[0].message.subject == "Rückerstattung für Bestellung – dringend"
    _p, items = ingest_raw((FIXTURES / "corpus" / "charset-koi8r.eml").read_bytes())
    assert items[0].message.subject == "Заказ"


@pytest.mark.django_db
def test_attachments_inline_images_forwards_and_tnef_are_kept_under_server_names():
    _p, items = ingest_raw((FIXTURES / "corpus" / "mime-related-cid-image.eml").read_bytes())
    message = items[0].message
    attachments = {a.filename: a for a in message.attachments.all()}
    assert set(attachments) == {"shot.png", "order.csv"}
    assert attachments["shot.png"].inline and attachments["shot.png"].content_id == "shot1@example.com"
    assert "shot.png" not in attachments["shot.png"].file.name  # stored under a generated name
    assert attachments["order.csv"].file.read() == b"id,qty\r\n4521,2"  # CRLF, as on the wire
    _p, items = ingest_raw((FIXTURES / "corpus" / "mime-forwarded-rfc822.eml").read_bytes())
    eml = items[0].message.attachments.get()
    assert eml.content_type == "message/rfc822" and b"Your invoice is attached." in eml.file.read()
    _p, items = ingest_raw((FIXTURES / "corpus" / "mime-tnef-winmail.eml").read_bytes())
    assert items[0].message.attachments.get().filename == "winmail.dat"
    _p, items = ingest_raw((FIXTURES / "corpus" / "charset-rfc2231-filename.eml").read_bytes())
    assert items[0].message.attachments.get().filename == "Rechnung März 2026.pdf"
    _p, items = ingest_raw((FIXTURES / "corpus" / "dangerous-filename.eml").read_bytes())
    names = sorted(a.filename for a in items[0].message.attachments.all())
    assert names == ["invoicefdp.exe", "passwd"]


@pytest.mark.django_db
def test_html_is_sanitised():
    _p, items = ingest_raw((FIXTURES / "corpus" / "html-with-script.eml").read_bytes())
    html = items[0].message.html
    for bad in ("<script", "onload", "javascript:", "onerror", "<iframe", "<form", "<style"):
        assert bad not in html
    assert "<p>Hi</p>" in html


@pytest.mark.django_db
def test_oversize_mail_is_quarantined(settings):
    settings.HELPDESK_EMAIL_MAX_BYTES = 100_000
    payload, items = ingest_raw((FIXTURES / "corpus" / "large-attachment-600k.eml").read_bytes())
    payload.refresh_from_db()
    assert items == [] and payload.state == InboundPayload.State.QUARANTINED
    assert "oversize" in payload.error
    assert bytes(payload.body).startswith(b"From: Big")  # kept whole for replay
