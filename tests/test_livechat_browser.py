"""The widget end to end in headless Chromium: a real server (Daphne + worker), the demo page,
the agent's real console. The visitor reaches the server through a TCP proxy we can cut."""

import re
import time

import pytest

from tests.live import LiveServer, TcpProxy, shifted_port

pytestmark = pytest.mark.browser

SERVER_PORT, PROXY_PORT = shifted_port(8410), shifted_port(8411)
WAIT = 15_000  # ms: generous for a loaded CI machine; nothing here measures speed


@pytest.fixture(scope="module")
def server():
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]]) as live:
        yield live


@pytest.fixture(scope="module")
def proxy(server):
    proxy = TcpProxy(PROXY_PORT, SERVER_PORT)
    yield proxy
    proxy.close()


@pytest.fixture
def agent_page(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url("/login/"))
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "helpdesk-demo")
    page.click("form.login button[type=submit]")
    page.wait_for_url(re.compile(r"/console/"))
    yield page
    context.close()


@pytest.fixture
def visitor(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    yield context
    context.close()


def open_widget(page, url):
    page.goto(url)
    page.locator("#helpdesk-chat .launcher").click()
    expect(page.locator("#helpdesk-chat .panel")).to_be_visible()


def wait_until(page, expression, timeout=WAIT):
    """Poll a page expression from the test side. Playwright's wait_for_function polls with eval()
    inside the page, which the demo page's CSP (no 'unsafe-eval') refuses whenever the first
    check is false; page.evaluate goes through the debugging protocol, outside the CSP."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)


def expect(locator):
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def agent_reply(agent_page, server, ticket_id, text):
    if f"/tickets/{ticket_id}/" not in agent_page.url:
        agent_page.goto(server.url(f"/console/tickets/{ticket_id}/"))
    box = agent_page.locator("#reply-form textarea[name=text]")
    box.fill(text)
    agent_page.locator("#reply-form button[type=submit]").click()
    expect(agent_page.locator("#timeline")).to_contain_text(text, timeout=WAIT)


def bubbles(page, text):
    return page.locator("#helpdesk-chat .msg", has_text=text)


def test_visitor_and_agent_chat_live_across_reload_and_a_dropped_connection(server, proxy, visitor, agent_page):
    page = visitor.new_page()
    open_widget(page, proxy.url("/chat/demo/"))
    # The demo inbox asks for name and email first (pre-chat form).
    page.locator("#helpdesk-chat #hdc-name").fill("Vera Visitor")
    page.locator("#helpdesk-chat #hdc-email").fill("vera@example.com")
    page.locator("#helpdesk-chat form.card button[type=submit]").click()
    expect(page.locator("#helpdesk-chat form.card")).to_be_hidden(timeout=WAIT)

    # 1. The visitor writes; the agent's queue shows it without a reload.
    agent_page.goto(server.url("/console/"))
    page.locator("#helpdesk-chat textarea").fill("Hello from the widget")
    page.locator("#helpdesk-chat textarea").press("Enter")
    expect(bubbles(page, "Hello from the widget").locator(".tick")).to_have_attribute("data-s", "sent", timeout=WAIT)
    row = agent_page.locator("#queue tr[data-ticket]", has_text="Hello from the widget")
    expect(row).to_be_visible(timeout=WAIT)
    ticket_id = row.get_attribute("data-ticket")

    # 2. The agent answers in the console; the reply appears in the widget with the agent's name.
    agent_reply(agent_page, server, ticket_id, "Hi Vera, Alice here. How can I help?")
    reply = bubbles(page, "Hi Vera, Alice here")
    expect(reply).to_have_count(1, timeout=WAIT)
    expect(reply.locator(".who")).to_have_text("Alice")

    # 3. A reload (and a navigation) shows the whole conversation again.
    page.reload()
    page.locator("#page-2").click()
    expect(page.locator("#page-marker")).to_contain_text("page 2")
    expect(page.locator("#helpdesk-chat .panel")).to_be_visible()  # it stays open across pages
    expect(bubbles(page, "Hello from the widget")).to_have_count(1, timeout=WAIT)
    expect(bubbles(page, "Hi Vera, Alice here")).to_have_count(1, timeout=WAIT)

    # 4. The connection drops for a few seconds while the agent sends two messages: when it comes
    # back, both appear exactly once, in order.
    wait_until(page, "window.HelpdeskChat.state().connected")
    proxy.cut(4)
    wait_until(page, "!window.HelpdeskChat.state().connected")
    agent_reply(agent_page, server, ticket_id, "First while you were away")
    agent_reply(agent_page, server, ticket_id, "Second while you were away")
    expect(bubbles(page, "Second while you were away")).to_have_count(1, timeout=30_000)
    expect(bubbles(page, "First while you were away")).to_have_count(1)
    page.wait_for_timeout(1500)  # any late duplicate would have arrived by now
    texts = page.locator("#helpdesk-chat .msg .text").all_inner_texts()
    assert texts.count("First while you were away") == 1 and texts.count("Second while you were away") == 1
    assert texts.index("First while you were away") < texts.index("Second while you were away")
    assert texts == ["Hello from the widget", "Hi Vera, Alice here. How can I help?",
                     "First while you were away", "Second while you were away"]


def test_unread_badge_keyboard_and_mobile_width(server, proxy, browser, agent_page):
    context = browser.new_context(viewport={"width": 375, "height": 700}, reduced_motion="reduce")
    page = context.new_page()
    page.goto(proxy.url("/chat/demo/"))
    launcher = page.locator("#helpdesk-chat .launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.focus()
    page.keyboard.press("Enter")  # keyboard opens it
    panel = page.locator("#helpdesk-chat [role=dialog]")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box["width"] == 375  # full screen on a phone
    page.locator("#helpdesk-chat form.card button[type=submit]").click()  # skip the optional email
    page.locator("#helpdesk-chat textarea").fill("Phone visitor here")
    page.keyboard.press("Enter")
    expect(bubbles(page, "Phone visitor here").locator(".tick")).to_have_attribute("data-s", "sent", timeout=WAIT)
    page.keyboard.press("Escape")  # closes, focus back on the launcher
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()

    row = agent_page.locator("#queue tr[data-ticket]", has_text="Phone visitor here")
    agent_page.goto(server.url("/console/"))
    expect(row).to_be_visible(timeout=WAIT)
    agent_reply(agent_page, server, row.get_attribute("data-ticket"), "Reply for the phone")
    expect(page.locator("#helpdesk-chat .badge")).to_have_text("1", timeout=WAIT)
    expect(launcher).to_have_attribute("aria-label", re.compile("1 unread"))
    launcher.click()
    expect(page.locator("#helpdesk-chat .badge")).to_be_hidden()
    context.close()
