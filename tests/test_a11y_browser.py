"""axe-core on every console page and the widget, at desktop and phone widths, light and dark:
no serious or critical violation (contrast, names, labels, roles). Failures list every page's
problems at once. To add a page, add its path to CONSOLE_PAGES (or call `assert_accessible`)."""

import re

import pytest

from tests.a11y import assert_accessible, axe_violations, describe, small_tap_targets
from tests.live import LiveServer, log_in, shifted_port

pytestmark = pytest.mark.browser

SERVER_PORT = shifted_port(8430)
WAIT = 15_000  # ms: generous for a loaded CI machine; nothing here measures speed
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
SCHEMES = ["light", "dark"]

# (label, path): what a lead (the seeded admin) opens in a day.
CONSOLE_PAGES = [
    ("queue", "/console/"),
    ("search", "/console/search/?q=order"),
    ("service levels", "/console/sla/settings/"),
    ("deadlines", "/console/sla/"),
    ("routing", "/console/routing/"),
    ("macros", "/console/routing/macros/"),
    ("mailboxes", "/console/mailboxes/"),
    ("surveys", "/console/surveys/settings/"),
    ("reports", "/console/reports/"),
    ("reports drill-down", "/console/reports/drill/?figure=created"),
    ("reports drill-down by channel", "/console/reports/drill/?figure=created&by=channel&key=email"),
    ("notifications", "/console/notifications/"),
    ("preferences", "/console/preferences/"),
]


@pytest.fixture(scope="module")
def server():
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]]) as live:
        yield live


def expect(locator):
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def context_for(browser, size, scheme, **options):
    width, height = SIZES[size]
    return browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme, **options)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", SIZES)
def test_console_pages_have_no_serious_axe_violations(server, browser, size, scheme):
    context = context_for(browser, size, scheme)
    page = context.new_page()
    problems = {}

    def check(label):
        found = axe_violations(page)
        if found:
            problems[label] = describe(found)

    page.goto(server.url("/login/"))
    check("login")
    log_in(page, server, "admin")
    for label, path in CONSOLE_PAGES:
        response = page.goto(server.url(path))
        assert response.status == 200, f"{label}: {path} answered {response.status}"
        check(label)
    page.goto(server.url("/console/"))
    page.locator("#queue-filters > summary").click()  # the filter bar, fetched when opened
    expect(page.locator("#filter-form")).to_be_visible()
    page.locator("#save-view > summary").click()
    expect(page.locator("#save-view-form")).to_be_visible()
    check("queue, filter bar and Save view open")
    page.locator("#filter-form select[name=priority]").select_option("3")
    page.locator("#filter-form button").click()  # filters in use: the bar is rendered with the page
    page.wait_for_url(re.compile(r"priority=3"))
    expect(page.locator("#filter-form")).to_be_visible()
    check("queue, filtered")
    page.goto(server.url("/console/"))
    ticket = page.locator("#queue tr[data-ticket]").first.get_attribute("data-ticket")
    page.goto(server.url(f"/console/tickets/{ticket}/"))
    expect(page.locator("#reply-form")).to_be_visible()
    check("ticket")
    page.locator("#bell").click()  # the notification panel, open
    expect(page.locator("#notif-panel")).to_be_visible()
    check("notification panel")
    page.locator("#customer-profile-link").click()
    expect(page.locator("#profile-name")).to_be_visible()
    check("customer profile")
    context.close()
    assert not problems, "\n\n".join(f"== {label} ({size}, {scheme})\n{text}" for label, text in problems.items())


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", SIZES)
def test_widget_and_demo_page_have_no_serious_axe_violations(server, browser, size, scheme):
    context = context_for(browser, size, scheme)
    page = context.new_page()
    page.goto(server.url("/chat/demo/"))
    launcher = page.locator("#helpdesk-chat .launcher")
    expect(launcher).to_be_visible(timeout=WAIT)
    assert_accessible(page, label=f"demo page, widget closed ({size}, {scheme})")
    # The demo page fits the screen: nothing scrolls sideways (the embed snippet wraps).
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), "demo page overflows"

    launcher.click()
    expect(page.locator("#helpdesk-chat #hdc-name")).to_be_visible(timeout=WAIT)
    assert_accessible(page, label=f"widget pre-chat ({size}, {scheme})")

    page.locator("#helpdesk-chat #hdc-name").fill("Ada")
    page.locator("#helpdesk-chat #hdc-email").fill("ada@example.com")
    page.locator("#helpdesk-chat form.card button[type=submit]").click()
    page.locator("#helpdesk-chat textarea").fill("Is this accessible?")
    page.locator("#helpdesk-chat textarea").press("Enter")
    sent = page.locator("#helpdesk-chat .msg", has_text="Is this accessible?")
    expect(sent.locator(".tick")).to_have_attribute("data-s", "sent", timeout=WAIT)
    assert_accessible(page, label=f"widget conversation ({size}, {scheme})")
    context.close()


def test_widget_buttons_are_44px_tap_targets_on_a_touch_screen(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(server.url("/chat/demo/"))
    assert page.evaluate("() => matchMedia('(pointer: coarse)').matches")
    page.locator("#helpdesk-chat .launcher").tap()
    expect(page.locator("#helpdesk-chat #hdc-name")).to_be_visible(timeout=WAIT)
    sizes = page.locator("#helpdesk-chat").evaluate(
        """h => [...h.shadowRoot.querySelectorAll('button, textarea, input:not([type=file])')]
              .filter(b => b.offsetParent !== null)
              .map(b => [b.getAttribute('aria-label') || b.textContent.trim(),
                         b.getBoundingClientRect().width, b.getBoundingClientRect().height])""")
    assert len(sizes) >= 5, sizes  # launcher, transcript, close, the card's fields and button, compose
    small = [s for s in sizes if s[1] < 44 or s[2] < 44]
    assert not small, f"tap targets under 44 px: {small}"
    context.close()


def phone_tap_check(browser, server, scheme="light"):
    """A 390x844 touch screen signed in as the admin, and `check(label)`, which records the page's
    controls under 44 px in `problems` (label -> list)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                  color_scheme=scheme)
    page = context.new_page()
    problems = {}

    def check(label):
        found = small_tap_targets(page)
        if found:
            problems[label] = found

    log_in(page, server, "admin")
    assert page.evaluate("() => matchMedia('(pointer: coarse)').matches"), "not a touch screen"
    return context, page, check, problems


def describe_taps(problems):
    return "tap targets under 44 px:\n" + "\n".join(
        f"== {label}\n  " + "\n  ".join(items) for label, items in problems.items())


def test_every_console_control_is_a_44px_tap_target_on_a_phone(server, browser):
    """On a 390x844 touch screen, every visible control of the console's daily pages, state by
    state: the queue (filter bar open, a saved view and its "Edit this view"), a ticket (reply
    and note tabs, the sidebar), the notification panel, the customer profile, the notification
    list, preferences (exceptions: tests/a11y.py)."""
    context, page, check, problems = phone_tap_check(browser, server)
    try:
        check("queue")
        page.locator("#queue-filters > summary").tap()
        expect(page.locator("#filter-form")).to_be_visible(timeout=WAIT)
        check("queue, filter bar open")
        page.locator("#save-view > summary").tap()
        page.locator("#save-view-name").fill("Touch test view")
        page.locator("#save-view-form button").tap()
        page.wait_for_url(re.compile(r"view=saved:\d+"), timeout=WAIT)
        check("saved view")
        page.locator("#edit-view > summary").tap()
        expect(page.locator("#edit-view-form")).to_be_visible()
        check("saved view, edit open")

        page.goto(server.url("/console/"))
        ticket = page.locator("#queue tr[data-ticket]").first.get_attribute("data-ticket")
        page.goto(server.url(f"/console/tickets/{ticket}/"))
        expect(page.locator("#reply-form")).to_be_visible()
        check("ticket, reply")
        page.locator("#tab-note").tap()
        expect(page.locator("#note-form")).to_be_visible()
        check("ticket, note")
        page.locator("#bell").tap()
        expect(page.locator("#notif-panel")).to_be_visible()
        check("notification panel")
        page.locator("#bell").tap()
        page.locator("#customer-profile-link").tap()
        expect(page.locator("#profile-name")).to_be_visible(timeout=WAIT)
        check("customer profile")
        page.goto(server.url("/console/notifications/"))
        check("notifications")
        page.goto(server.url("/console/preferences/"))
        check("preferences")
    finally:
        context.close()
    assert not problems, describe_taps(problems)


# (label, path): the apps' console pages a lead opens to set things up or read figures.
APP_PAGES = [
    ("service levels", "/console/sla/settings/"),
    ("new schedule", "/console/sla/settings/schedules/new/"),
    ("new service-level policy", "/console/sla/settings/policies/new/"),
    ("deadlines", "/console/sla/"),
    ("routing: rules, teams, inboxes", "/console/routing/"),
    ("new routing rule", "/console/routing/rules/new/"),
    ("macros", "/console/routing/macros/"),
    ("new macro", "/console/routing/macros/new/"),
    ("mailboxes", "/console/mailboxes/"),
    ("new mailbox", "/console/mailboxes/new/"),
    ("surveys", "/console/surveys/settings/"),
    ("reports", "/console/reports/"),
    ("reports drill-down", "/console/reports/drill/?figure=created"),
    ("reports drill-down by channel", "/console/reports/drill/?figure=created&by=channel&key=email"),
    ("notifications", "/console/notifications/"),
    ("search", "/console/search/?q=order"),
]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_app_page_control_is_a_44px_tap_target_on_a_phone(server, browser, scheme):
    """The apps' own console pages (service levels, routing, macros, mailboxes, surveys, reports
    and their drill-downs, privacy, notifications) on a 390x844 touch screen: every visible
    control at least 44x44 px, the exceptions of tests/a11y.py aside. The reports tables' figure
    links are cell-sized (no exception claimed for them)."""
    context, page, check, problems = phone_tap_check(browser, server, scheme)
    try:
        for label, path in APP_PAGES:
            response = page.goto(server.url(path))
            assert response.status == 200, f"{label}: {path} answered {response.status}"
            check(label)
        # The reports' figure links were the bulk of the misses: make sure they were measured.
        page.goto(server.url("/console/reports/"))
        assert page.locator("main table a[href*='/drill/']").count() > 0, "no figure links on the report"
        # A settings checkbox is tapped through its stretched label: a tap at the row's far end,
        # away from the box and the label's words, toggles it.
        page.goto(server.url("/console/surveys/settings/"))
        box = page.locator("#id_enabled")
        was = box.is_checked()
        row = box.locator("xpath=..").bounding_box()
        page.touchscreen.tap(row["x"] + row["width"] - 4, row["y"] + row["height"] / 2)
        assert box.is_checked() is not was, "tapping the checkbox's row did not toggle it"
        # The privacy page of the first ticket's customer (export, erase).
        page.goto(server.url("/console/"))
        ticket = page.locator("#queue tr[data-ticket]").first.get_attribute("data-ticket")
        page.goto(server.url(f"/console/tickets/{ticket}/"))
        page.locator("#privacy-link").tap()
        page.wait_for_url(re.compile(r"/privacy/$"), timeout=WAIT)
        check("customer privacy")
    finally:
        context.close()
    assert not problems, describe_taps(problems)


def test_tab_reaches_the_reply_box_before_any_message_button(server, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    log_in(page, server, "alice")
    ticket = page.locator("#queue tr[data-ticket]").first.get_attribute("data-ticket")
    page.goto(server.url(f"/console/tickets/{ticket}/"))
    expect(page.locator("#timeline .msg").first).to_be_visible()
    passed = []
    for _ in range(60):  # Tab from the top of the page, as a keyboard user would
        page.keyboard.press("Tab")
        where = page.evaluate("""() => { const a = document.activeElement;
            return a.matches('.skip-link[href="#reply-text"]') ? 'skip' : a.closest('#timeline') ? 'timeline' : a.id || a.tagName; }""")
        if where == "skip":
            break
        passed.append(where)
    else:
        pytest.fail(f"Tab never reached the skip-to-reply link: {passed}")
    assert "timeline" not in passed and passed, passed
    page.keyboard.press("Enter")
    expect(page.locator("#reply-text")).to_be_focused()
    context.close()
