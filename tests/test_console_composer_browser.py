"""The reply box's channel picker in headless Chromium (issue 17), keyboard only, at desktop and
phone sizes, light and dark: each of the customer's channels is a button with its icon in a
native radio group; it starts on the channel the customer last wrote on *in this ticket* (not
where they last wrote anywhere), the arrow keys move and pick, the pick stays after a send, and
a channel that cannot take a reply says why and the send button refuses it. axe-core passes."""

import re

import pytest

from tests.a11y import assert_accessible
from tests.live import LiveServer, shifted_port
from tests.test_console_browser import query
from tests.test_console_notify_browser import LOOKS, WAIT, console_for, live

pytestmark = pytest.mark.browser

SERVER_PORT = shifted_port(8587)


@pytest.fixture(scope="module")
def server():
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]]) as live_server:
        yield live_server


@pytest.fixture(scope="module")
def grace(server):
    """Grace Hopper (seed_demo): a WhatsApp ticket, then an email ticket written to later."""
    found = query(server, "from tickets.models import Message, Ticket; "
                          "t = {x.channel: x.pk for x in Ticket.objects.filter(customer__name='Grace Hopper')}; "
                          "last = Message.objects.filter(customer__name='Grace Hopper', direction='inbound')"
                          ".latest('created_at'); print(t['whatsapp'], t['email'], last.channel)")
    whatsapp, email, last = found.split()
    assert last == "email", "the seed changed: the customer's last message anywhere must be the email"
    return {"whatsapp": int(whatsapp), "email": int(email)}


def picked(page) -> str:
    return page.locator("#reply-form input[name=channel]:checked").input_value()


def focused(page) -> str:
    """What has the keyboard focus: `radio:<channel>`, or the element's id."""
    return page.evaluate("""() => { const a = document.activeElement;
        return a.matches('input[name=channel]') ? 'radio:' + a.value : a.id || a.tagName; }""")


def tab_back_to_the_picker(page) -> str:
    """From the reply box, Shift+Tab until a channel radio has the focus (the group's one stop)."""
    from playwright.sync_api import expect

    page.keyboard.press("Escape")
    page.keyboard.press("r")  # the reply box
    expect(page.locator("#reply-text")).to_be_focused()
    passed = []
    for _ in range(8):
        page.keyboard.press("Shift+Tab")
        where = focused(page)
        if where.startswith("radio:"):
            return where
        passed.append(where)
    pytest.fail(f"Shift+Tab from the reply box never reached the channel picker: {passed}")


@pytest.mark.parametrize(("viewport", "scheme"), LOOKS)
def test_the_channel_picker_shows_icons_and_works_from_the_keyboard(server, browser, grace, viewport, scheme):
    from playwright.sync_api import expect

    page = console_for(browser, server, "alice", viewport, scheme)
    try:
        # The email ticket starts on email, the WhatsApp ticket on WhatsApp, though the
        # customer's last message anywhere is the email.
        page.goto(f"/console/tickets/{grace['email']}/")
        assert picked(page) == "email"
        page.goto(f"/console/tickets/{grace['whatsapp']}/")
        live(page)
        assert picked(page) == "whatsapp"
        choices = page.locator("#reply-channel .channel-choice")
        expect(choices).to_have_count(2)
        for channel, name in (("whatsapp", "WhatsApp"), ("email", "Email")):
            choice = page.locator(f"#reply-channel .channel-choice:has(input[value={channel}])")
            expect(choice).to_contain_text(name)
            expect(choice.locator(f".ch-{channel} svg use")).to_have_attribute("href", re.compile(rf"#i-{channel}$"))
            assert choice.bounding_box()["height"] >= (44 if viewport == "phone" else 28)
        # The picked one is marked by more than colour: a check mark shows on it alone.
        expect(page.locator("#reply-channel .channel-choice:has(input:checked) .i-check")).to_be_visible()
        expect(page.locator("#reply-channel .channel-choice:not(:has(input:checked)) .i-check")).to_be_hidden()
        assert_accessible(page, include="#reply-form", label=f"reply box ({viewport}, {scheme})")

        # Keyboard only: the group is one Tab stop, on the picked channel; an arrow moves and picks.
        assert tab_back_to_the_picker(page) == "radio:whatsapp"
        page.keyboard.press("ArrowRight")  # two channels: the arrow wraps round to the other one
        assert focused(page) == "radio:email" and picked(page) == "email"
        expect(page.locator("#reply-subject")).to_be_visible()  # the email fields follow the pick
        assert_accessible(page, include="#reply-form", label=f"reply box on email ({viewport}, {scheme})")

        text = f"Picked by keyboard ({viewport} {scheme})"
        page.keyboard.press("Escape")
        page.keyboard.press("r")
        page.keyboard.type(text)
        for _ in range(4):  # reply box -> attachments -> send
            page.keyboard.press("Tab")
            if focused(page) == "send-reply":
                break
        assert focused(page) == "send-reply"
        page.keyboard.press("Enter")
        sent = page.locator(".msg.outbound", has_text=text)
        expect(sent).to_be_visible(timeout=WAIT)
        expect(sent.locator(".meta .ch-email")).to_have_count(1)
        expect(page.locator("#reply-text")).to_have_value("", timeout=WAIT)
        assert picked(page) == "email", "the agent's pick must stay after a send"
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    finally:
        page.context.close()


def test_a_channel_that_cannot_take_a_reply_says_why_and_refuses_the_send(server, browser, grace):
    from playwright.sync_api import expect

    server.shell("from django.utils import timezone; from tickets.models import Identity; "
                 "Identity.objects.filter(address='+447700900123').update(opted_out_at=timezone.now())")
    page = console_for(browser, server, "alice", "desktop", "light")
    try:
        page.goto(f"/console/tickets/{grace['email']}/")
        blocked = page.locator("#reply-channel input[value=whatsapp]")
        expect(blocked).to_have_attribute("aria-disabled", "true")
        # Its reason is its description (read out when it has the focus) and its tooltip.
        expect(blocked).to_have_accessible_description(re.compile(r"opted out"))
        expect(page.locator("#reply-channel .channel-choice.blocked")).to_contain_text("unavailable")
        assert tab_back_to_the_picker(page) == "radio:email"
        page.keyboard.press("ArrowRight")
        assert picked(page) == "whatsapp"
        expect(page.locator("#constraints .constraint.blocked")).to_contain_text("opted out", timeout=WAIT)
        expect(page.locator("#send-reply")).to_be_disabled()
        assert_accessible(page, include="#reply-form", label="reply box, blocked channel picked")
        page.keyboard.press("ArrowLeft")
        assert picked(page) == "email"
        expect(page.locator("#send-reply")).to_be_enabled(timeout=WAIT)
    finally:
        page.context.close()
        server.shell("from tickets.models import Identity; "
                     "Identity.objects.filter(address='+447700900123').update(opted_out_at=None)")
