"""The folded quote in the real console (headless Chromium): the visible reply shows, the
signature and quoted history wait behind "Show quoted text", on page load and live."""

import pytest

from tests.test_console_browser import WAIT, alice, customer_writes, live, server, ticket_of  # noqa: F401

pytestmark = pytest.mark.browser


def test_quoted_text_is_folded_on_the_page_and_in_live_messages(server, alice):  # noqa: F811
    from playwright.sync_api import expect

    folded = {"signature": "Sent from my iPhone", "quoted_text": "> Your parcel left <b>today</b>."}
    first = customer_writes(server, "folded@example.com", "It arrived, thanks.", meta=folded)
    ticket_id = ticket_of(server, first)
    alice.goto(f"/console/tickets/{ticket_id}/")
    live(alice)
    message = alice.locator(".msg", has_text="It arrived, thanks.")
    expect(message.locator("details.folded summary")).to_have_text("Show quoted text")
    expect(message.locator("details.folded .text")).to_be_hidden()
    message.locator("details.folded summary").click()
    expect(message.locator("details.folded .text")).to_have_text(
        "Sent from my iPhone\n\n> Your parcel left <b>today</b>.")  # text, never markup

    customer_writes(server, "folded@example.com", "One more thing.", meta=folded)
    latest = alice.locator(".msg", has_text="One more thing.")
    expect(latest.locator("details.folded summary")).to_have_text("Show quoted text", timeout=WAIT)
    latest.locator("details.folded summary").click()
    expect(latest.locator("details.folded .text")).to_contain_text("Your parcel left <b>today</b>.")
