"""The console in German in headless Chromium (issue 17): an agent whose preference is German gets
the queue and the ticket page in German, server-rendered and drawn live (rows, timeline items,
relative times, channel names from the JavaScript catalog), even from an English browser; the
longer German words overflow nothing at phone width, and axe finds nothing serious."""

import json
import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from tests.a11y import assert_accessible
from tests.live import LiveServer, shifted_port
from tests.test_console_browser import customer_writes, ticket_of

pytestmark = pytest.mark.browser

SERVER_PORT = shifted_port(8590)
WAIT = 15_000  # ms
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
ENGLISH = re.compile(r"\b(Unassigned|Send reply|Internal note|just now|min ago|yesterday|Keyboard shortcuts)\b")


@pytest.fixture(scope="module")
def server():
    # Writes from `manage.py shell` (another process) reach the consoles through the log watch.
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]], env={"HELPDESK_EVENT_POLL_SECONDS": "0.5"}) as live:
        live.shell("from django.contrib.auth.models import User; from preferences import services\n"
                   "services.save(User.objects.get(username='alice'), time_zone='Europe/Berlin', language='de')")
        yield live


@contextmanager
def german_agent(browser, server, viewport, scheme="light"):
    """Alice (German in her preferences) in a browser that asks for English."""
    context = browser.new_context(base_url=server.url(""), viewport=VIEWPORTS[viewport], color_scheme=scheme,
                                  locale="en-US", has_touch=viewport == "phone")
    page = context.new_page()
    try:
        page.goto("/login/")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", "helpdesk-demo")
        page.click("form.login button[type=submit]")
        page.wait_for_url(re.compile(r"/console/"), timeout=WAIT)
        yield page
    finally:
        context.close()


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def ingest(server, sender: str, text: str, subject: str = "") -> int:
    out = server.shell("from tests.factories import inbound; from tickets import services\n"
                       f"print(services.ingest(inbound({sender!r}, {text!r}, subject={subject!r})).message.ticket_id)")
    return int(out.splitlines()[-1])


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_queue_is_german_live_and_fits(server, browser, viewport):
    with german_agent(browser, server, viewport) as page:
        assert page.evaluate("document.documentElement.lang") == "de"
        page.locator(".views", has_text="Nicht zugewiesen").first.wait_for(timeout=WAIT)
        assert page.locator("#help-button").get_attribute("aria-label") == "Tastenkürzel"
        # A new customer message arrives: the row is drawn live, its time by time.js in German.
        ingest(server, f"neu-{viewport}@example.com", "Wo bleibt meine Bestellung?", subject=f"Bestellung {viewport}")
        row = page.locator("table.queue tbody tr[data-ticket]", has_text=f"Bestellung {viewport}")
        row.wait_for(timeout=WAIT)
        assert row.locator("time[data-rel]").first.inner_text() == "gerade eben"
        # The script's own words come from the German catalog.
        drawn = page.evaluate("""() => {
            const c = helpdeskUI.channel("email"), now = new Date();
            return [c.title, helpdeskTime.relative(new Date(now - 5 * 60000), now),
                    helpdeskTime.relative(new Date(now - 26 * 3600000), now).split(" ")[0] ];
        }""")
        assert drawn[0] == "E-Mail" and drawn[1] == "vor 5 Min.", drawn
        assert not ENGLISH.search(page.locator("main").inner_text())
        assert overflow(page) <= 0
        assert_accessible(page)


def test_relative_times_in_german_match_the_server(server, browser):
    """time.js (the JavaScript catalog) and timefmt.py (the .mo) say the same German words."""
    with german_agent(browser, server, "desktop") as page:
        want = json.loads(server.shell(
            "import json; from datetime import datetime, timedelta, UTC\n"
            "from django.utils import timezone, translation\n"
            "from tickets.console import timefmt\n"
            "now = datetime(2026, 3, 18, 14, 30, tzinfo=UTC)\n"
            "offsets = [-20, -180, -3540, -90000, 720, 86400]\n"
            "with timezone.override('Europe/Berlin'), translation.override('de'):\n"
            "    f = timefmt.TimeFormatter(now)\n"
            "    print(json.dumps({'offsets': offsets, 'times': [f.relative(now + timedelta(seconds=s)) for s in offsets]}))"
        ).splitlines()[-1])
        got = page.evaluate("""want => {
            helpdeskTime.setZone("Europe/Berlin");
            const now = new Date(Date.UTC(2026, 2, 18, 14, 30));
            return want.offsets.map(s => helpdeskTime.relative(new Date(now.getTime() + s * 1000), now));
        }""", want)
        assert got == want["times"]
        assert "gerade eben" in got and "gestern 14:30" in got and "morgen 15:30" in got


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_ticket_page_is_german_live_and_fits(server, browser, viewport):
    sender = f"kunde-{viewport}"
    ticket = ticket_of(server, customer_writes(server, sender, "Mein Paket ist nicht angekommen."))
    with german_agent(browser, server, viewport, scheme="dark") as page:
        page.goto(f"/console/tickets/{ticket}/")
        page.locator("#reply-text").wait_for(timeout=WAIT)
        expect(page.locator("body")).to_have_attribute("data-live", "1", timeout=WAIT)
        assert page.locator("#send-reply").inner_text() == "Antwort senden"
        assert page.locator("#customer-profile-link").get_attribute("title") == "Kundenprofil"
        # Live: the customer writes again and the status changes; both are drawn in German.
        assert ticket_of(server, customer_writes(server, sender, "Hallo? Noch keine Antwort.")) == ticket
        item = page.locator("#timeline li.msg", has_text="Noch keine Antwort").last
        item.wait_for(timeout=WAIT)
        assert item.locator("time[data-rel]").first.inner_text() == "gerade eben"
        page.locator("#status-select").select_option("pending")
        line = page.locator("#timeline li.activity", has_text=re.compile(r"änderte den Status von Neu auf Wartend"))
        line.first.wait_for(timeout=WAIT)
        expect(page.locator("#ticket-status")).to_have_text("Wartend", timeout=WAIT)
        assert not ENGLISH.search(page.locator("main").inner_text())
        assert overflow(page) <= 0
        assert_accessible(page)


def test_keyboard_only_the_german_help_and_reply(server, browser):
    with german_agent(browser, server, "desktop") as page:
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/console/tickets/\d+/"), timeout=WAIT)
        page.keyboard.press("r")
        assert page.evaluate("document.activeElement.id") == "reply-text"
        assert "Antwort schreiben" in page.locator("#reply-text").get_attribute("placeholder")
        page.keyboard.press("Escape")
        page.keyboard.press("?")
        dialog = page.locator("dialog#help")
        dialog.wait_for(timeout=WAIT)
        assert "Tastenkürzel" in dialog.inner_text() and "ausgewähltes Ticket öffnen" in dialog.inner_text()
        assert_accessible(page)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_german_visitor_gets_the_chat_widget_in_german(server, browser, viewport):
    """The widget lives on the customer's site: its words come with the session, in the language of
    the visitor's browser (here German), and the agent console is not involved."""
    context = browser.new_context(base_url=server.url(""), viewport=VIEWPORTS[viewport], locale="de-DE",
                                  has_touch=viewport == "phone")
    page = context.new_page()
    try:
        page.goto("/chat/demo/")
        launcher = page.locator("#helpdesk-chat .launcher")
        expect(launcher).to_have_attribute("aria-label", "Chat öffnen", timeout=WAIT)
        launcher.click()
        panel = page.locator("#helpdesk-chat .panel")
        expect(panel).to_have_attribute("lang", "de")
        expect(panel.locator("textarea")).to_have_attribute("placeholder", "Nachricht eingeben…")
        expect(panel.locator(".compose button[type=submit]")).to_have_text("Senden")
        expect(panel.locator(".status")).to_have_text(re.compile(r"^Wir sind (online|nicht da)"), timeout=WAIT)
        panel.locator("textarea").fill("Hallo, ich habe eine Frage.")
        panel.locator("textarea").press("Enter")
        tick = panel.locator(".msg", has_text="ich habe eine Frage").locator(".tick")
        expect(tick).to_have_attribute("title", re.compile(r"^(Gesendet|Gesehen)$"), timeout=WAIT)
        assert overflow(page) <= 0
        assert_accessible(page, include="#helpdesk-chat")
    finally:
        context.close()
