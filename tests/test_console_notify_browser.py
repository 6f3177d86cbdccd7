"""Notifications, saved views and the reply box's failure path in headless Chromium (issue 17),
at desktop and phone sizes, light and dark, driven from the keyboard where an agent would: a
mention appears live in a second console with the count in the tab title; a view saved from
the queue's filters counts a new ticket live; a reply whose POST never reaches the server says
so and keeps the draft and the chosen channel."""

import re

import pytest

from tests.live import LiveServer, shifted_port
from tests.test_console_browser import customer_writes, query

pytestmark = pytest.mark.browser

SERVER_PORT = shifted_port(8630)
WAIT = 15_000  # ms
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
LOOKS = [(v, s) for v in VIEWPORTS for s in ("light", "dark")]


@pytest.fixture(scope="module")
def server():
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]]) as live:
        yield live


def console_for(browser, server, username, viewport, scheme):
    context = browser.new_context(base_url=server.url(""), viewport=VIEWPORTS[viewport], color_scheme=scheme,
                                  has_touch=viewport == "phone")
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "helpdesk-demo")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console/"), timeout=WAIT)
    return page


def live(page):
    from playwright.sync_api import expect

    expect(page.locator("body")).to_have_attribute("data-live", "1", timeout=WAIT)


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def unread(server, username) -> int:
    return int(query(server, "from notifications.models import Notification; "
                             f"print(Notification.objects.filter(user__username={username!r}, read_at=None).count())"))


@pytest.mark.parametrize(("viewport", "scheme"), LOOKS)
def test_a_mention_appears_live_in_a_second_console_and_in_the_tab_title(server, browser, viewport, scheme):
    from playwright.sync_api import expect

    external_id = customer_writes(server, "notify@example.com", f"help me ({viewport} {scheme})",
                                  subject=f"Bell {viewport} {scheme}")
    ticket = int(query(server, f"from tickets.models import Message; "
                               f"print(Message.objects.get(external_id={external_id!r}).ticket_id)"))
    server.shell("from notifications.models import Notification; Notification.objects.all().update(read_at='2026-01-01T00:00Z')")
    alice = console_for(browser, server, "alice", viewport, scheme)
    bob = console_for(browser, server, "bob", viewport, scheme)
    try:
        live(bob)
        title = bob.title()
        expect(bob.locator("#notif-count")).to_be_hidden()
        alice.goto(f"/console/tickets/{ticket}/")
        live(alice)
        alice.keyboard.press("n")  # the note tab, from the keyboard
        alice.keyboard.type(f"@bob can you check the invoice? ({viewport} {scheme})")
        alice.keyboard.press("Tab")
        alice.keyboard.press("Enter")
        expect(bob.locator("#notif-count")).to_have_text("1", timeout=WAIT)
        expect(bob).to_have_title(f"(1) {title}", timeout=WAIT)
        expect(bob.locator("#bell")).to_have_attribute("aria-label", re.compile("1 unread"))
        bob.locator("#bell").focus()
        bob.keyboard.press("Enter")
        item = bob.locator(".notif-item.unread", has_text=f"can you check the invoice? ({viewport} {scheme})")
        expect(item).to_be_visible(timeout=WAIT)
        expect(item.locator("a")).to_be_focused(timeout=WAIT)
        assert overflow(bob) <= 0, f"the open panel scrolls sideways at {viewport}"
        if viewport == "phone":
            assert bob.locator("#bell").bounding_box()["height"] >= 44
        bob.keyboard.press("Enter")  # follow it: the ticket opens and the notification is read
        bob.wait_for_url(re.compile(rf"/console/tickets/{ticket}/"), timeout=WAIT)
        expect(bob.locator("#notif-count")).to_be_hidden(timeout=WAIT)
        expect(bob).to_have_title(re.compile(r"^(?!\(\d+\))"), timeout=WAIT)
        assert unread(server, "bob") == 0
    finally:
        alice.context.close()
        bob.context.close()


@pytest.mark.parametrize(("viewport", "scheme"), LOOKS)
def test_a_view_saved_from_the_filters_counts_new_tickets_live(server, browser, viewport, scheme):
    from playwright.sync_api import expect

    name = f"Fake {viewport} {scheme}"
    customer_writes(server, "first-fake@example.com", "a ticket on the fake channel")  # the filter offers it
    alice = console_for(browser, server, "alice", viewport, scheme)
    try:
        live(alice)
        alice.locator("#queue-filters summary").focus()
        alice.keyboard.press("Enter")  # the form is fetched on first open, its first field focused
        expect(alice.locator("#filter-form select[name=status]")).to_be_focused(timeout=WAIT)
        alice.select_option("#filter-form select[name=channel]", "fake")
        alice.select_option("#filter-form select[name=priority]", "3")
        alice.locator("#filter-form button").focus()
        alice.keyboard.press("Enter")
        alice.wait_for_url(re.compile(r"channel=fake.*priority=3"), timeout=WAIT)
        expect(alice.locator("#queue-filters")).to_have_attribute("open", "")
        alice.locator("#save-view summary").focus()
        alice.keyboard.press("Enter")
        alice.locator("#save-view-name").focus()
        alice.keyboard.type(name)
        alice.keyboard.press("Enter")
        alice.wait_for_url(re.compile(r"view=saved:\d+"), timeout=WAIT)
        link = alice.locator(".saved-views a", has_text=name)
        expect(link).to_have_attribute("aria-current", "page")
        before = int(link.locator(".count").inner_text())
        assert overflow(alice) <= 0, f"the queue with its filters scrolls sideways at {viewport}"
        live(alice)
        external_id = customer_writes(server, f"urgent-{viewport}-{scheme}@example.com", "urgent!",
                                      subject=f"Urgent {viewport} {scheme}")
        ticket = int(query(server, "from tickets.models import Message, Ticket; "
                                   f"t = Message.objects.get(external_id={external_id!r}).ticket; print(t.pk)"))
        alice.evaluate("1")  # nothing yet: priority is normal, the view must not count it
        expect(link.locator(".count")).to_have_text(str(before), timeout=WAIT)
        # An agent raises the priority (through the server, so the change rings the consoles).
        bob = console_for(browser, server, "bob", viewport, scheme)
        try:
            bob.goto(f"/console/tickets/{ticket}/")
            live(bob)
            bob.select_option("#priority-select", "3")
            expect(alice.locator(".saved-views a", has_text=name).locator(".count")).to_have_text(
                str(before + 1), timeout=WAIT)
            expect(alice.locator("#queue tr", has_text=f"Urgent {viewport} {scheme}")).to_be_visible(timeout=WAIT)
        finally:
            bob.context.close()
    finally:
        alice.context.close()


@pytest.mark.parametrize(("viewport", "scheme"), LOOKS)
def test_a_shared_view_appears_and_is_renamed_live_in_other_agents_sidebars(server, browser, viewport, scheme):
    """A team lead (admin) shares a view; bob's sidebar shows it at once (on a phone his queue
    page, on a wide screen the queue pane beside his ticket), renamed when it is renamed, gone
    when it is no longer shared."""
    from playwright.sync_api import expect

    name, renamed = f"Shared {viewport} {scheme}", f"Renamed {viewport} {scheme}"
    bob = console_for(browser, server, "bob", viewport, scheme)
    lead = console_for(browser, server, "admin", "desktop", "light")
    try:
        if viewport == "desktop":
            bob.goto(bob.locator("#queue tr[data-ticket] a").first.get_attribute("href"))
            expect(bob.locator("#queue-pane .queue-panes")).to_be_visible(timeout=WAIT)
        sidebar = bob.locator("#queue-pane" if viewport == "desktop" else "#queue-body")
        live(bob)
        expect(sidebar.locator(".saved-views a", has_text=name)).to_have_count(0)
        lead.locator("#save-view summary").click()
        lead.locator("#save-view-name").fill(name)
        lead.locator("#save-view-form input[name=shared]").check()
        lead.locator("#save-view-form button").click()
        lead.wait_for_url(re.compile(r"view=saved:\d+"), timeout=WAIT)
        shared = sidebar.locator(".saved-views a", has_text=name)
        expect(shared).to_be_visible(timeout=WAIT)  # no reload: bob's page is the same page
        expect(shared).to_contain_text("shared")

        lead.locator("#edit-view summary").click()
        lead.locator("#edit-view-form input[name=name]").fill(renamed)
        lead.locator("#edit-view-form button").click()
        lead.wait_for_url(re.compile(r"view=saved:\d+"), timeout=WAIT)
        expect(sidebar.locator(".saved-views a", has_text=renamed)).to_be_visible(timeout=WAIT)
        expect(sidebar.locator(".saved-views a", has_text=name)).to_have_count(0)

        lead.locator("#edit-view summary").click()
        lead.locator("#edit-view-form input[name=shared]").uncheck()
        lead.locator("#edit-view-form button").click()
        lead.wait_for_url(re.compile(r"view=saved:\d+"), timeout=WAIT)
        expect(sidebar.locator(".saved-views a", has_text=renamed)).to_have_count(0, timeout=WAIT)
        assert overflow(bob) <= 0
    finally:
        lead.context.close()
        bob.context.close()


@pytest.mark.parametrize(("viewport", "scheme"), LOOKS)
def test_a_reply_that_never_reaches_the_server_says_so_and_keeps_the_draft(server, browser, viewport, scheme):
    from playwright.sync_api import expect

    external_id = customer_writes(server, f"offline-{viewport}-{scheme}@example.com", "are you there?")
    ticket = int(query(server, f"from tickets.models import Message; "
                               f"print(Message.objects.get(external_id={external_id!r}).ticket_id)"))
    alice = console_for(browser, server, "alice", viewport, scheme)
    try:
        alice.goto(f"/console/tickets/{ticket}/")
        live(alice)
        channel = alice.locator("#reply-form input[name=channel]:checked").input_value()
        draft = f"Yes, here ({viewport} {scheme})."
        alice.route(re.compile(r".*/reply/$"), lambda route: route.abort("internetdisconnected"))
        alice.keyboard.press("r")
        alice.keyboard.type(draft)
        alice.click("#send-reply")
        expect(alice.locator("#composer-error")).to_be_visible(timeout=WAIT)
        expect(alice.locator("#composer-error")).to_contain_text("could not be reached")
        expect(alice.locator("#reply-text")).to_have_value(draft)
        expect(alice.locator("#send-reply")).to_be_enabled()
        # A proxy answering with its own error page is a network problem too.
        alice.unroute(re.compile(r".*/reply/$"))
        alice.route(re.compile(r".*/reply/$"), lambda route: route.fulfill(status=502, body="<h1>Bad gateway</h1>"))
        # The box still shows the first error, so wait for the 502 itself: unrouting while this
        # send is in flight would let it reach the server and the next click send an empty box.
        with alice.expect_response(re.compile(r".*/reply/$"), timeout=WAIT) as answered:
            alice.click("#send-reply")
        assert answered.value.status == 502
        expect(alice.locator("#send-reply")).to_be_enabled()
        expect(alice.locator("#composer-error")).to_contain_text("could not be reached", timeout=WAIT)
        expect(alice.locator("#reply-text")).to_have_value(draft)
        assert query(server, f"from tickets.models import Message; print(Message.objects.filter(ticket_id={ticket}, "
                             f"direction='outbound').count())") == "0"
        # Back online: the same draft goes, once; the box empties and the channel stays.
        alice.unroute(re.compile(r".*/reply/$"))
        alice.click("#send-reply")
        expect(alice.locator(".msg.outbound", has_text=draft)).to_be_visible(timeout=WAIT)
        expect(alice.locator("#reply-text")).to_have_value("", timeout=WAIT)
        expect(alice.locator("#composer-error")).to_be_hidden()
        assert alice.locator("#reply-form input[name=channel]:checked").input_value() == channel
        assert overflow(alice) <= 0
    finally:
        alice.context.close()
