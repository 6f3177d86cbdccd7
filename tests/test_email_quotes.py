"""The visible reply is separated from quoted history for the common mail clients; the full
original stays on the message (meta) one click away."""

import pytest

from channels_email.pipe import ingest_raw
from tests.email_helpers import corpus

CLIENTS = ["gmail", "outlook-web", "outlook-desktop", "apple-mail", "iphone", "android", "thunderbird",
           "yahoo"]


@pytest.mark.django_db
@pytest.mark.parametrize("client", CLIENTS)
def test_reply_from_client_is_split_from_the_quote(client):
    _p, items = ingest_raw(corpus(f"client-{client}"))
    message = items[0].message
    assert message.text.startswith("Thanks, the link works now.")
    assert "tracking link" not in message.text
    assert "Here is your tracking link." in message.meta["original_text"]


@pytest.mark.django_db
def test_german_client_and_html_alternative():
    _p, items = ingest_raw(corpus("client-german-outlook"))
    assert items[0].message.text == "Danke, der Link funktioniert."
    _p, items = ingest_raw(corpus("html-alternative-with-quote"))
    message = items[0].message
    assert message.text == "Yes please."
    assert message.html == ""  # the quoted HTML is not shown as the reply...
    assert "Shall we refund?" in message.meta["original_html"]  # ...but kept, sanitised


@pytest.mark.django_db
def test_a_message_without_quote_keeps_everything():
    _p, items = ingest_raw(corpus("html-only"))
    message = items[0].message
    assert "My order is late." in message.text and "<b>order</b>" in message.html
    assert "original_text" not in message.meta
