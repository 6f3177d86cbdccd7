"""One message must not stop the helpdesk (issue 12): hostile HTML is bounded and handled before
the write transaction, so other webhooks are served meanwhile; 3,000 Cc addresses are capped
and written with one statement."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from channels_email.pipe import ingest_raw
from tests.email_helpers import BASIC_AUTH, SUPPORT
from tests.fakes.social import post_telegram
from tickets import sanitize, services
from tickets.channels import InboundMessage
from tickets.models import InboundPayload, Message, Ticket

NESTED = "<div>" * 100_000 + "Where is my order?" + "</div>" * 100_000


def html_mail(html: str, msgid: str = "<deep-html@example.org>", headers: str = "") -> bytes:
    return (f"From: Jane <jane@example.org>\r\nTo: {SUPPORT}\r\nSubject: Hostile HTML\r\nMessage-ID: {msgid}\r\n"
            f"{headers}MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n").encode()


def test_html_within_bounds_is_sanitised_and_beyond_them_is_not_parsed():
    clean, dropped = sanitize.sanitize_bounded('<p onclick="x()">Hi <script>bad()</script><b>there</b></p>')
    assert (clean, dropped) == ("<p>Hi <b>there</b></p>", "")
    clean, dropped = sanitize.sanitize_bounded(NESTED)
    assert clean == "" and dropped == "HTML with more than 50000 elements"
    deep = "<div>" * 257 + "x" + "</div>" * 257
    assert sanitize.sanitize_bounded(deep) == ("", "HTML nested deeper than 256 elements")
    assert sanitize.sanitize_bounded(deep.replace("<div>", "<span>", 1).replace("</div>", "", 1))[1]
    within = "<div>" * 256 + "x" + "</div>" * 256
    assert sanitize.sanitize_bounded(within)[1] == ""
    # Ordinary sloppy mail HTML (unclosed <p>, <li>, <td> by the thousand) is not "deep".
    sloppy = "<table>" + "<tr><td>cell<td>cell" * 2000 + "</table>" + "<p>para" * 3000
    assert sanitize.sanitize_bounded(sloppy)[1] == ""


def test_element_and_size_bounds(settings):
    settings.HELPDESK_HTML_MAX_ELEMENTS = 1000
    assert sanitize.sanitize_bounded("<b>x</b>" * 1001) == ("", "HTML with more than 1000 elements")
    settings.HELPDESK_HTML_MAX_BYTES = 100
    assert sanitize.sanitize_bounded("<b>" + "x" * 100 + "</b>") == ("", "HTML larger than 100 bytes")


@pytest.mark.django_db
def test_nested_html_mail_keeps_its_text_and_payload_and_says_why_the_html_went(console):
    payload, items = ingest_raw(html_mail(NESTED))
    message = items[0].message
    message.refresh_from_db()
    assert message.html == "" and message.meta.get("original_html", "") == ""
    assert message.meta["html_dropped"] == "HTML with more than 50000 elements"
    assert "Where is my order?" in message.text
    assert bytes(InboundPayload.objects.get(pk=payload.pk).body) == html_mail(NESTED)
    page = console.get(f"/console/tickets/{message.ticket_id}/").content.decode()
    assert "The formatted (HTML) version was not kept: HTML with more than 50000 elements" in page


@pytest.mark.django_db
def test_direct_callers_get_the_same_bounds():
    result = services.ingest(InboundMessage(channel="fake", external_id="x1", sender="ann", text="hi", html=NESTED))
    assert result.message.html == "" and result.message.meta["html_dropped"]


@pytest.mark.django_db(transaction=True)
def test_another_webhook_is_served_while_pathological_html_is_processed(monkeypatch):
    """The hostile mail is held at its HTML step until a Telegram webhook has been served. Were
    the HTML handled inside the write transaction, the Telegram write would wait for the lock
    (SQLite: "database is locked" after busy_timeout) and this test would fail."""
    reached, release = threading.Event(), threading.Event()
    original = sanitize.sanitize_bounded

    def held(html):
        if len(html) > 1_000_000:
            reached.set()
            assert release.wait(60), "the test never released the hostile mail"
        return original(html)

    monkeypatch.setattr(sanitize, "sanitize_bounded", held)
    monkeypatch.setattr("tickets.services.inbound.sanitize_bounded", held)
    monkeypatch.setattr("channels_email.inbound.sanitize_bounded", held)
    import json

    from tests.email_helpers import fixture_json

    postmark = fixture_json("postmark_inbound.json")
    postmark.update({"HtmlBody": NESTED, "TextBody": "", "StrippedTextReply": "", "MessageID": "deep-postmark-1"})
    postmark["Headers"] = [h for h in postmark.get("Headers", []) if h.get("Name") != "Message-ID"]
    outcome = {}

    def hostile():
        try:
            outcome["response"] = Client(raise_request_exception=False).generic(
                "POST", "/anymail/postmark/inbound/", json.dumps(postmark).encode(), content_type="application/json",
                headers={"Authorization": BASIC_AUTH})
        finally:
            connection.close()

    thread = threading.Thread(target=hostile)
    thread.start()
    try:
        assert reached.wait(60), "the hostile mail never reached its HTML step"
        other = post_telegram(Client(raise_request_exception=False), {
            "update_id": 77, "message": {"message_id": 5, "date": 1785000000, "text": "Is anyone there?",
                                         "from": {"id": 99, "is_bot": False, "first_name": "Tom"},
                                         "chat": {"id": 99, "type": "private"}}})
        assert other.status_code == 200, other.content[:300]
        assert Message.objects.filter(channel="telegram", text="Is anyone there?").exists()
    finally:
        release.set()
        thread.join(120)
    assert outcome["response"].status_code == 200, outcome["response"].content[:300]
    mail = Message.objects.get(channel="email")
    assert mail.html == "" and mail.meta["html_dropped"] == "HTML with more than 50000 elements"


# --- 3,000 Cc addresses ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_cc_participants_are_capped_and_written_in_one_statement(settings):
    settings.HELPDESK_MAX_CC_PARTICIPANTS = 50
    settings.HELPDESK_EVENT_HOOKS = []  # counted here: the participants' write, not other apps' hooks
    result = services.ingest(InboundMessage(channel="email", external_id="<m1@example.org>",
                                            sender="jane@example.org", text="hi"))
    ticket = result.message.ticket
    addresses = [f"person{i}@example.net" for i in range(3000)]
    with CaptureQueriesContext(connection) as queries:
        services.add_participants(ticket, "email", addresses)
    ticket_table = Ticket._meta.db_table
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and ticket_table in q["sql"]]
    assert len(updates) == 1
    assert len(queries) <= 6  # lock the ticket, one update, one event (+ the seq counter)
    ticket.refresh_from_db()
    assert ticket.meta["participants"] == [["email", a] for a in addresses[:50]]
    # The same call again adds the next 50 at most, never a duplicate.
    services.add_participants(ticket, "email", addresses)
    ticket.refresh_from_db()
    assert len(ticket.meta["participants"]) == 100 == len({tuple(p) for p in ticket.meta["participants"]})


@pytest.mark.django_db
def test_a_mail_cc_ing_3000_addresses_adds_at_most_the_cap(settings):
    settings.HELPDESK_MAX_CC_PARTICIPANTS = 50
    cc = ", ".join(f"person{i}@example.net" for i in range(3000))
    _payload, items = ingest_raw(html_mail("<p>hello</p>", msgid="<cc-3000@example.org>", headers=f"Cc: {cc}\r\n"))
    ticket = Ticket.objects.get(pk=items[0].message.ticket_id)
    assert len(ticket.meta["participants"]) == 50
    assert len(items[0].message.meta["cc"]) == 3000  # the message itself keeps who was Cc'd
