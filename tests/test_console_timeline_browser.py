"""The ticket timeline and the customer profile in headless Chromium (issue 17): an activity
line one agent causes appears live in a second agent's console (no toast), a message arrives
as the server rendered it, and the profile page is reached from the ticket by keyboard; at
desktop and phone sizes, light and dark, nothing scrolls sideways."""

import os
import re

import pytest

from tests.live import LiveServer, shifted_port
from tests.test_console_browser import customer_writes, query, ticket_of

pytestmark = pytest.mark.browser

SERVER_PORT = shifted_port(8560)
WAIT = 15_000  # ms
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
BACKGROUND = {"light": "rgb(246, 247, 249)", "dark": "rgb(15, 20, 27)"}  # --bg of each theme


@pytest.fixture(scope="module")
def server():
    # Writes from `manage.py shell` (another process) reach the consoles through the log watch.
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]], env={"HELPDESK_EVENT_POLL_SECONDS": "0.5"}) as live:
        yield live


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    path = os.environ.get("HELPDESK_SCREENSHOT_DIR") or str(tmp_path_factory.mktemp("timeline-shots"))
    os.makedirs(path, exist_ok=True)
    return path


def agent_page(browser, server, username, viewport, scheme):
    context = browser.new_context(base_url=server.url(""), viewport=VIEWPORTS[viewport], color_scheme=scheme,
                                  has_touch=viewport == "phone")
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "helpdesk-demo")
    page.press("input[name=password]", "Enter")  # keyboard only
    page.wait_for_url(re.compile(r"/console/"), timeout=WAIT)
    return page


def fits(page, scheme):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, "scrolls sideways"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == BACKGROUND[scheme]


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_activity_line_appears_live_in_a_second_console(server, browser, shots, viewport, scheme):
    from playwright.sync_api import expect

    first = customer_writes(server, f"timeline-{viewport}-{scheme}@example.com", "my order is late",
                            subject=f"Late order {viewport} {scheme}")
    ticket_id = ticket_of(server, first)
    alice = agent_page(browser, server, "alice", viewport, scheme)
    bob = agent_page(browser, server, "bob", viewport, scheme)
    try:
        for page in (alice, bob):
            page.goto(f"/console/tickets/{ticket_id}/")
            expect(page.locator("body")).to_have_attribute("data-live", "1", timeout=WAIT)
        # Bob sets the status with the keyboard; Alice's timeline gets the line, with who and when.
        bob.locator("#status-select").focus()
        bob.locator("#status-select").select_option("pending")
        line = alice.locator(".block.current li.activity", has_text="Bob changed the status from New to Pending")
        expect(line).to_be_visible(timeout=WAIT)
        expect(line.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
        expect(alice.locator("#ticket-status")).to_have_text("Pending", timeout=WAIT)
        expect(alice.locator("#toasts .toast")).to_have_count(0)  # the cryptic "Bob: status" toast is gone
        # A customer message arrives as the server renders it (one renderer, fetched by the console).
        customer_writes(server, f"timeline-{viewport}-{scheme}@example.com", "any news?")
        message = alice.locator(".block.current li.msg.inbound", has_text="any news?")
        expect(message).to_be_visible(timeout=WAIT)
        expect(message.locator(".meta .channel")).to_have_attribute("title", "fake")  # the channel's icon
        expect(message.locator(".move-button")).to_have_count(1)  # bound like a message rendered on load
        # And the line survives a reload: rendered by the server on load too.
        alice.reload()
        expect(alice.locator(".block.current li.activity", has_text="from New to Pending")).to_have_count(1)
        assert alice.evaluate("document.querySelectorAll('#timeline li[data-pending]').length") == 0
        fits(alice, scheme)
        alice.screenshot(path=f"{shots}/timeline-{viewport}-{scheme}.png", full_page=True)
    finally:
        alice.context.close()
        bob.context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_ticket_headers_count_their_messages_live(server, browser, viewport, scheme):
    """A ticket's header in the history says how many messages its block holds, and keeps
    saying it as messages arrive: on a header added live (it said "1 message" until a reload)
    and on this ticket's own."""
    from playwright.sync_api import expect

    sender = f"headers-{viewport}-{scheme}@example.com"
    ticket_id = ticket_of(server, customer_writes(server, sender, "first question", session="one"))
    alice = agent_page(browser, server, "alice", viewport, scheme)
    try:
        alice.goto(f"/console/tickets/{ticket_id}/")
        expect(alice.locator("body")).to_have_attribute("data-live", "1", timeout=WAIT)
        current = alice.locator(f".block[data-ticket='{ticket_id}'] > summary .block-count")
        expect(current).to_have_text("1 message")
        customer_writes(server, sender, "still there?", session="one")
        expect(current).to_have_text("2 messages", timeout=WAIT)

        # Another conversation of the same customer starts: a new ticket, its header added live.
        other_id = ticket_of(server, customer_writes(server, sender, "another topic", session="two",
                                                     subject=f"Other {viewport} {scheme}"))
        other = alice.locator(f".block[data-ticket='{other_id}'] > summary")
        expect(other).to_contain_text(f"Other {viewport} {scheme}", timeout=WAIT)
        expect(other.locator(".block-count")).to_have_text("1 message")
        for n in (2, 3):
            customer_writes(server, sender, f"more on that ({n})", session="two")
            expect(other.locator(".block-count")).to_have_text(f"{n} messages", timeout=WAIT)
        expect(current).to_have_text("2 messages")
        # What a reload shows, the live page showed already.
        alice.reload()
        expect(alice.locator(f".block[data-ticket='{other_id}'] > summary .block-count")).to_have_text("3 messages")
        expect(current).to_have_text("2 messages")
    finally:
        alice.context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_customer_profile_is_one_keypress_from_the_ticket(server, browser, shots, viewport, scheme):
    from playwright.sync_api import expect

    sender = f"profile-{viewport}-{scheme}@example.com"
    ticket_id = ticket_of(server, customer_writes(server, sender, "hello", subject="Profile check"))
    page = agent_page(browser, server, "alice", viewport, scheme)
    try:
        page.goto(f"/console/tickets/{ticket_id}/")
        link = page.locator("#customer-profile-link")
        expect(link).to_have_text(sender)  # no name given: the address, never "Customer 8"
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/console/customers/\d+/$"), timeout=WAIT)
        expect(page.locator("#profile-name")).to_have_text(sender)
        expect(page.locator("#profile-identities tbody tr")).to_have_count(1)
        expect(page.locator(f"#profile-tickets tr[data-ticket='{ticket_id}'] .status")).to_have_text("New")
        # Tab reaches the ticket's link, Enter goes back to it.
        page.locator(f"#profile-tickets tr[data-ticket='{ticket_id}'] a").first.focus()
        fits(page, scheme)
        page.screenshot(path=f"{shots}/profile-{viewport}-{scheme}.png", full_page=True)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/console/tickets/{ticket_id}/$"), timeout=WAIT)
    finally:
        page.context.close()


def test_a_failed_delivery_shows_as_a_line_and_on_the_message_live(server, browser):
    from playwright.sync_api import expect

    ticket_id = ticket_of(server, customer_writes(server, "bounce@example.com", "can you call me?"))
    alice = agent_page(browser, server, "alice", "desktop", "light")
    try:
        alice.goto(f"/console/tickets/{ticket_id}/")
        expect(alice.locator("body")).to_have_attribute("data-live", "1", timeout=WAIT)
        alice.locator("#reply-text").fill("Calling you at 5")
        alice.locator("#send-reply").press("Enter")  # keyboard only
        reply = alice.locator(".block.current li.msg.outbound", has_text="Calling you at 5")
        expect(reply).to_be_visible(timeout=WAIT)
        message_id = reply.get_attribute("data-message")
        query(server, f"from tickets import services; services.mark_failed({message_id}, '30003', "
                      f"'Unreachable handset'); print('ok')")
        expect(alice.locator(".block.current li.activity",
                             has_text="A reply could not be delivered: Unreachable handset")).to_be_visible(timeout=WAIT)
        # The message itself was fetched again as the server renders a failed reply: reason and Retry.
        expect(reply.locator(".delivery")).to_have_attribute("data-status", "failed", timeout=WAIT)
        expect(reply.locator(".error-reason")).to_have_text("Unreachable handset")
        expect(reply.locator("form.retry button")).to_be_visible()
    finally:
        alice.context.close()
