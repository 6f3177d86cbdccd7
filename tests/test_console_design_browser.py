"""The console's visual system in headless Chromium (issue 17): every console and app page, at
desktop and phone sizes, in light and dark, never scrolls sideways and paints the theme asked
for; the header toggle switches the theme and remembers it across pages; the three panes on a
wide screen (live), the icons, avatars and times the browser draws match the server's."""

import json
import os
import re
from contextlib import contextmanager

import pytest

from tests.live import LiveServer, shifted_port

pytestmark = pytest.mark.browser

SERVER_PORT = shifted_port(8540)
WAIT = 15_000  # ms
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
# The page background of each theme (--bg in console.css): what the agent actually sees.
BACKGROUND = {"light": "rgb(246, 247, 249)", "dark": "rgb(15, 20, 27)"}


@pytest.fixture(scope="module")
def server():
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]]) as live:
        yield live


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Where screenshots go, to be looked at by a person (HELPDESK_SCREENSHOT_DIR keeps them)."""
    path = os.environ.get("HELPDESK_SCREENSHOT_DIR") or str(tmp_path_factory.mktemp("design-shots"))
    os.makedirs(path, exist_ok=True)
    return path


def page_in(browser, server, viewport="desktop", scheme="light"):
    context = browser.new_context(base_url=server.url(""), viewport=VIEWPORTS[viewport], color_scheme=scheme,
                                  has_touch=viewport == "phone")
    return context.new_page()


def log_in(page, username="admin"):
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "helpdesk-demo")
    page.click("form.login button[type=submit]")
    page.wait_for_url(re.compile(r"/console/"), timeout=WAIT)


def overflow(page) -> int:
    """How many pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def console_pages(server, page) -> dict[str, str]:
    """Every page an agent or lead sees, the apps' settings pages included (admin sees all)."""
    page.goto("/console/")
    ticket = page.locator("table.queue tbody a").first.get_attribute("href")
    customer = server.shell("from tickets.models import Customer; print(Customer.objects.order_by('pk').first().pk)")
    return {
        "queue": "/console/", "ticket": ticket, "search": "/console/search/?q=a",
        "sla": "/console/sla/", "routing": "/console/routing/", "mailboxes": "/console/mailboxes/",
        "privacy": f"/console/customers/{customer.splitlines()[-1]}/privacy/",
        "sla-settings": "/console/sla/settings/", "sla-policy": "/console/sla/settings/policies/new/",
        "sla-schedule": "/console/sla/settings/schedules/new/", "queue-by-deadline": "/console/?sort=deadline",
        "routing-rule": "/console/routing/rules/new/", "mailbox-new": "/console/mailboxes/new/",
        "routing-macros": "/console/routing/macros/", "routing-macro": "/console/routing/macros/new/",
        "surveys": "/console/surveys/settings/",
    }


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_fits_the_screen_in_both_themes(server, browser, shots, viewport, scheme):
    page = page_in(browser, server, viewport, scheme)
    try:
        page.goto("/login/")
        page.screenshot(path=f"{shots}/login-{viewport}-{scheme}.png", full_page=True)
        assert overflow(page) <= 0, "the login page scrolls sideways"
        assert background(page) == BACKGROUND[scheme]
        log_in(page)
        for name, url in console_pages(server, page).items():
            page.goto(url)
            page.screenshot(path=f"{shots}/{name}-{viewport}-{scheme}.png", full_page=True)
            assert overflow(page) <= 0, f"{name} ({url}) scrolls sideways by {overflow(page)} px at {viewport}"
            assert background(page) == BACKGROUND[scheme], f"{name} is not painted {scheme}"
            if viewport == "phone":  # a touch screen: fingertip-sized controls
                box = page.locator("#search-box").bounding_box()
                assert box["height"] >= 44, f"{name}: search box {box['height']} px tall on a phone"
    finally:
        page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_header_toggle_switches_the_theme_and_remembers_it(server, browser, scheme):
    other = "dark" if scheme == "light" else "light"
    page = page_in(browser, server, "phone", scheme)
    try:
        log_in(page, "alice")
        toggle = page.locator("#theme-toggle")
        assert background(page) == BACKGROUND[scheme]
        assert toggle.get_attribute("aria-pressed") == str(scheme == "dark").lower()

        toggle.click()
        assert page.evaluate("document.documentElement.dataset.theme") == other
        assert background(page) == BACKGROUND[other]
        assert toggle.get_attribute("aria-pressed") == str(other == "dark").lower()

        # Remembered: another page starts in the chosen theme, against the system preference.
        page.goto("/console/search/?q=a")
        assert background(page) == BACKGROUND[other]

        page.locator("#theme-toggle").click()
        assert background(page) == BACKGROUND[scheme]
        # A phone is a touch screen: the header's controls are fingertip-sized.
        for control in ("#theme-toggle", "#search-box", "form.inline button"):
            assert page.locator(control).first.bounding_box()["height"] >= 44, control
    finally:
        page.context.close()


# Text and the surface it sits on, as the console pairs them (WCAG AA asks 4.5:1 for body text).
CONTRAST_PAIRS = [
    ("fg", "bg"), ("fg", "surface"), ("fg", "surface-2"), ("fg", "note"), ("fg", "warn-soft"), ("fg", "highlight"),
    ("fg", "accent-soft"), ("muted", "bg"), ("muted", "surface"), ("muted", "surface-2"), ("muted", "note"),
    ("accent", "bg"), ("accent", "surface"), ("accent", "accent-soft"), ("accent-fg", "accent"),
    ("bad", "surface"), ("warn", "surface"), ("ok", "surface"), ("warn", "warn-soft"), ("ok", "ok-soft"),
    ("bad", "bad-soft"), ("toast-fg", "toast"), ("toast-fg", "bad"),
    # status badges and avatar initials are text too
    ("st-new", "st-new-soft"), ("st-open", "st-open-soft"), ("st-pending", "st-pending-soft"),
    ("st-solved", "st-solved-soft"), *[("avatar-fg", f"av-{n}") for n in range(8)],
]
# Channel icons are graphics: WCAG asks 3:1 against what they sit on (1.4.11).
ICON_PAIRS = [(f"ch-{c}", surface) for c in ("email", "sms", "whatsapp", "messenger", "instagram", "telegram", "chat")
              for surface in ("surface", "bg", "surface-2")]


def luminance(hex_colour: str) -> float:
    digits = hex_colour.strip().lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_colours_meet_aa_contrast_in_both_themes(server, browser, scheme):
    """Read from the shipped stylesheet as the browser resolves it, so a token edit is checked."""
    page = page_in(browser, server, "desktop", scheme)
    try:
        page.goto("/login/")
        names = sorted({name for pair in CONTRAST_PAIRS + ICON_PAIRS for name in pair})
        tokens = page.evaluate(
            "names => Object.fromEntries(names.map(n => "
            "[n, getComputedStyle(document.documentElement).getPropertyValue('--' + n)]))", names)
        weak = [f"--{a} on --{b}: {contrast(tokens[a], tokens[b]):.2f}"
                for a, b in CONTRAST_PAIRS if contrast(tokens[a], tokens[b]) < 4.5]
        weak += [f"--{a} on --{b}: {contrast(tokens[a], tokens[b]):.2f}"
                 for a, b in ICON_PAIRS if contrast(tokens[a], tokens[b]) < 3]
        assert not weak, f"below AA in {scheme}: {weak}"
        assert luminance(tokens["bg"]) < 0.05 if scheme == "dark" else luminance(tokens["bg"]) > 0.8
    finally:
        page.context.close()


@contextmanager
def signed_in(browser, server, viewport, scheme, username="alice"):
    """A fresh browser context, logged in, closed afterwards whatever happens."""
    page = page_in(browser, server, viewport, scheme)
    try:
        log_in(page, username)
        yield page
    finally:
        page.context.close()


def test_three_panes_on_a_wide_screen_follow_the_queue_live(server, browser, shots):
    with signed_in(browser, server, "desktop", "light") as page:
        refused = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.click(".views a[data-view=unassigned]")
        page.wait_for_url(re.compile(r"view=unassigned"), timeout=WAIT)
        ticket = page.locator("table.queue tbody tr[data-ticket]").first.get_attribute("data-ticket")
        page.goto(f"/console/tickets/{ticket}/")
        pane = page.locator("#queue-pane")
        current = pane.locator(f"tr[data-ticket='{ticket}'][aria-current=page]")
        current.wait_for(timeout=WAIT)
        assert pane.is_visible() and pane.locator(".views a[data-view=unassigned][aria-current=page]").count() == 1
        panes = [page.locator(sel).bounding_box() for sel in ("#queue-pane", ".conversation", ".sidebar")]
        assert panes[0]["x"] < panes[1]["x"] < panes[2]["x"], panes  # views+queue | ticket | customer
        assert overflow(page) <= 0
        # Live: a new customer message elsewhere appears in the pane without a reload.
        rows = pane.locator("tr[data-ticket]").count()
        server.shell("from tests.factories import inbound; from tickets import services; "
                     "services.ingest(inbound('pane@example.com', 'a new question', subject='Pane test'))")
        pane.locator("tr[data-ticket]", has_text="Pane test").wait_for(timeout=WAIT)
        assert pane.locator("tr[data-ticket]").count() == rows + 1
        page.screenshot(path=f"{shots}/three-panes-desktop-light.png")
        assert not refused, refused
        # Icons are drawn (the sprite loads under the CSP), at their size.
        box = page.locator(".ticket-head .channel svg").bounding_box()
        assert box["width"] >= 18 and box["height"] >= 18
        sprite = page.evaluate("fetch(document.querySelector('.channel use').getAttribute('href').split('#')[0])"
                               ".then(r => r.status + ' ' + r.headers.get('content-type'))")
        assert sprite.startswith("200 image/svg+xml"), sprite


def test_on_a_phone_the_ticket_page_has_no_queue_pane(server, browser):
    with signed_in(browser, server, "phone", "dark") as page:
        page.goto(page.locator("table.queue tbody a").first.get_attribute("href"))
        page.locator("#reply-text").wait_for(timeout=WAIT)
        assert page.locator("#queue-pane").is_hidden() and overflow(page) <= 0
        # The narrowest phone the issue names: queue cards and the ticket still fit.
        page.set_viewport_size({"width": 375, "height": 812})
        assert overflow(page) <= 0
        page.goto("/console/")
        assert overflow(page) <= 0 and page.locator("table.queue tbody tr").first.bounding_box()["width"] <= 375


def test_times_avatars_and_icons_drawn_live_match_the_server(server, browser):
    """time.js and ui.js are the twins of timefmt.py and avatars.py: same text, same colours."""
    with signed_in(browser, server, "desktop", "light") as page:
        expected = server.shell(
            "import json; from datetime import datetime, timedelta, UTC\n"
            "from django.utils import timezone, translation\n"
            "from tickets.console import avatars, timefmt\n"
            "now = datetime(2026, 3, 18, 14, 30, tzinfo=UTC)\n"
            "offsets = [-20, -180, -3540, -18000, -90000, -259200, -2592000, -34560000, 720, 86400]\n"
            "with timezone.override('Europe/Paris'), translation.override('en'):\n"
            "    f = timefmt.TimeFormatter(now)\n"
            "    times = [f.relative(now + timedelta(seconds=s)) for s in offsets]\n"
            "names = ['Ada Lovelace', 'grace@example.org', '+1 415 555 0101', 'Émile Zola', 'Visitor 4821']\n"
            "print(json.dumps({'offsets': offsets, 'times': times, 'names': names,\n"
            "  'avatars': [[avatars.initials(n), avatars.colour(n)] for n in names]}))").splitlines()[-1]
        want = json.loads(expected)
        got = page.evaluate("""want => {
            helpdeskTime.setZone("Europe/Paris");
            const now = new Date(Date.UTC(2026, 2, 18, 14, 30));
            return {
              times: want.offsets.map(s => helpdeskTime.relative(new Date(now.getTime() + s * 1000), now)),
              avatars: want.names.map(n => [helpdeskUI.initials(n), helpdeskUI.colour(n)]),
            };
        }""", want)
        assert got["times"] == want["times"]
        assert got["avatars"] == want["avatars"]
        # Rendered live: a channel icon with its accessible name, a <time> with the exact time.
        node = page.evaluate("""() => {
            const c = helpdeskUI.channel("telegram"), t = helpdeskTime.timeNode(new Date().toISOString());
            return [c.querySelector("svg").getAttribute("aria-label"), c.title, t.textContent, t.title.length > 10];
        }""")
        assert node == ["Telegram", "Telegram", "just now", True]


def test_keyboard_only_skip_link_then_search(server, browser):
    with signed_in(browser, server, "desktop", "dark") as page:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main"
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.id") == "search-box"
        page.keyboard.press("Escape")
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/console/tickets/\d+/"), timeout=WAIT)


def test_a_preferences_change_reaches_the_agents_other_open_console_live(server, browser):
    """The same agent in two browsers: the time zone chosen in one re-writes the other's times in
    place (no reload, no new login); a new language reloads it, keeping the reply draft."""
    from playwright.sync_api import expect

    try:
        with signed_in(browser, server, "desktop", "light", "admin") as ticket, \
                signed_in(browser, server, "phone", "dark", "admin") as settings_page:
            ticket.goto(ticket.locator("table.queue tbody a").first.get_attribute("href"))
            expect(ticket.locator("body")).to_have_attribute("data-live", "1", timeout=WAIT)
            ticket.evaluate("document.body.dataset.marker = 'not reloaded'")
            ticket.locator("#reply-text").fill("Half-written answer")

            settings_page.goto("/console/preferences/")
            settings_page.select_option("select[name=time_zone]", "Asia/Tokyo")
            settings_page.click("#preferences-form button[type=submit]")
            expect(ticket.locator("body")).to_have_attribute("data-tz", "Asia/Tokyo", timeout=WAIT)
            expect(ticket.locator("time[data-rel]").first).to_have_attribute("title", re.compile(r"GMT\+9|JST"))
            assert ticket.evaluate("document.body.dataset.marker") == "not reloaded"

            settings_page.select_option("select[name=language]", "fr")
            settings_page.click("#preferences-form button[type=submit]")
            expect(ticket.locator("html")).to_have_attribute("lang", "fr", timeout=WAIT)
            expect(ticket.locator("#reply-text")).to_have_value("Half-written answer")
            assert ticket.evaluate("document.body.dataset.marker") is None  # read again from the server
    finally:
        server.shell("from preferences.models import AgentPreferences; "
                     "AgentPreferences.objects.filter(user__username='admin').delete()")


def test_an_agent_chooses_a_time_zone_in_the_console(server, browser):
    with signed_in(browser, server, "phone", "light", "bob") as page:
        page.click("a.who")
        page.select_option("select[name=time_zone]", "Asia/Tokyo")
        page.click("#preferences-form button[type=submit]")
        page.locator(".flash").wait_for(timeout=WAIT)
        assert page.evaluate("document.body.dataset.tz") == "Asia/Tokyo"
        page.goto("/console/")
        title = page.locator("time[data-rel]").first.get_attribute("title")
        assert "GMT+9" in title or "JST" in title, title
        assert overflow(page) <= 0
