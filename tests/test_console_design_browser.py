"""The console's visual system in headless Chromium (issue 17): every console and app page, at
desktop and phone sizes, in light and dark, never scrolls sideways and paints the theme asked
for; the header toggle switches the theme and remembers it across pages."""

import os
import re

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
    context = browser.new_context(base_url=server.url(""), viewport=VIEWPORTS[viewport], color_scheme=scheme)
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
    finally:
        page.context.close()
