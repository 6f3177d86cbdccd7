"""Routing in the real console (headless Chromium, Daphne + worker): the availability switch,
a bulk assign of 20 tickets with shift-click, and a macro applied from the keyboard."""

import re

import pytest

from tests.live import LiveServer, shifted_port
from tests.test_console_browser import WAIT, customer_writes, live, log_in, query, ticket_of

pytestmark = pytest.mark.browser
SERVER_PORT = shifted_port(8520)


@pytest.fixture(scope="module")
def server():
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]]) as live_server:
        yield live_server


@pytest.fixture
def alice(browser, server):
    page = log_in(browser, server.url(""), "alice")
    yield page
    page.context.close()


def test_the_availability_switch_sets_the_agents_status(alice, server):
    from playwright.sync_api import expect

    live(alice)
    box = alice.locator("#availability")
    expect(box).to_have_attribute("data-status", "online", timeout=WAIT)  # the first heartbeat
    alice.select_option("#availability-select", "away")
    expect(box).to_have_attribute("data-status", "away", timeout=WAIT)
    assert query(server, "from routing.models import AgentStatus; "
                         "print(AgentStatus.objects.get(user__username='alice').status)") == "away"
    alice.select_option("#availability-select", "online")
    expect(box).to_have_attribute("data-status", "online", timeout=WAIT)


def test_bulk_assign_of_twenty_tickets_with_shift_click(alice, server):
    from playwright.sync_api import expect

    ids = sorted({ticket_of(server, customer_writes(server, f"bulk-{i}", f"bulk {i}")) for i in range(20)})
    assert len(ids) == 20
    alice.goto("/console/?view=channel:fake")
    live(alice)
    expect(alice.locator("#queue tr[data-ticket] input.bulk-pick")).to_have_count(20, timeout=WAIT)
    rows = alice.locator("#queue tr[data-ticket]")
    rows.first.locator("input.bulk-pick").click()
    rows.last.locator("input.bulk-pick").click(modifiers=["Shift"])
    expect(alice.locator("#bulk-count")).to_have_text(re.compile(r"^20 "), timeout=WAIT)
    expect(alice.locator("#bulk-bar")).to_have_attribute("data-ready", "1", timeout=WAIT)
    alice.select_option("#bulk-action", "assign")
    bob = query(server, "from django.contrib.auth.models import User; print(User.objects.get(username='bob').pk)")
    alice.select_option("#bulk-value", value=bob)
    alice.click("#bulk-apply")
    expect(alice.locator("#bulk-results")).to_have_attribute("data-done", "20", timeout=WAIT)
    assigned = query(server, "from tickets.models import Ticket; "
                             f"print(Ticket.objects.filter(pk__in={ids}, assignee__username='bob').count())")
    assert assigned == "20"


def test_x_toggles_the_selected_row(alice, server):
    from playwright.sync_api import expect

    customer_writes(server, "x-key", "pick me")
    alice.goto("/console/?view=channel:fake")
    live(alice)
    expect(alice.locator("#queue tr[data-ticket] input.bulk-pick").first).to_be_visible(timeout=WAIT)
    alice.keyboard.press("j")
    alice.keyboard.press("x")
    expect(alice.locator("#bulk-count")).to_have_text(re.compile(r"^1 "), timeout=WAIT)


def test_a_macro_applied_from_the_keyboard_after_its_preview(alice, server):
    from playwright.sync_api import expect

    ticket = ticket_of(server, customer_writes(server, "macro-fan", "where is it?", name="Jane Doe"))
    server.shell("from routing.models import Macro; Macro.objects.create(name='Shipped', shortcut='1', "
                 "reply='Hi {customer_first_name}, it shipped.', status='pending')")
    alice.goto(f"/console/tickets/{ticket}/")
    live(alice)
    expect(alice.locator("#routing-bar")).to_have_attribute("data-ready", "1", timeout=WAIT)
    alice.keyboard.press("Alt+1")
    dialog = alice.locator("#macro-dialog")
    expect(dialog).to_be_visible(timeout=WAIT)
    expect(alice.locator("#macro-reply")).to_have_text("Hi Jane, it shipped.")
    expect(alice.locator("#macro-changes")).to_contain_text("status: Pending")
    alice.keyboard.press("Enter")
    expect(alice.locator("#routing-message")).to_have_text("Macro applied.", timeout=WAIT)
    expect(alice.locator(".timeline, main").first).to_contain_text("Hi Jane, it shipped.", timeout=WAIT)
    status = query(server, f"from tickets.models import Ticket; print(Ticket.objects.get(pk={ticket}).status)")
    assert status == "pending"


def test_a_macro_written_in_the_console_by_keyboard_then_applied_with_its_shortcut(alice, server):
    from playwright.sync_api import expect

    alice.goto("/console/routing/macros/new/")
    alice.locator("#id_name").focus()
    alice.keyboard.type("Thanks, typed")
    alice.keyboard.press("Tab")
    alice.keyboard.type("7")  # the shortcut
    alice.keyboard.press("Tab")
    alice.keyboard.type("Thanks {customer_first_name}! {agent_name}")
    alice.locator("button[name=preview]").focus()
    alice.keyboard.press("Enter")
    expect(alice.locator("#macro-preview pre")).to_have_text("Thanks Jane! Alice", timeout=WAIT)
    alice.locator("button[name=save]").focus()
    alice.keyboard.press("Enter")
    expect(alice.locator("#my-macros")).to_contain_text("Alt+7", timeout=WAIT)

    ticket = ticket_of(server, customer_writes(server, "typed-macro-fan", "hello?", name="Ken Adams"))
    alice.goto(f"/console/tickets/{ticket}/")
    live(alice)
    expect(alice.locator("#routing-bar")).to_have_attribute("data-ready", "1", timeout=WAIT)
    alice.keyboard.press("Alt+7")
    expect(alice.locator("#macro-reply")).to_have_text("Thanks Ken! Alice", timeout=WAIT)
    alice.keyboard.press("Enter")
    expect(alice.locator("#routing-message")).to_have_text("Macro applied.", timeout=WAIT)


def test_bulk_merge_of_three_tickets_shows_a_result_each(alice, server):
    from playwright.sync_api import expect

    ids = sorted(ticket_of(server, customer_writes(server, "merge-fan", f"merge me {i}", session=f"merge-{i}"))
                 for i in range(3))
    alice.goto("/console/?view=channel:fake")
    live(alice)
    for pk in ids:
        alice.locator(f"#queue tr[data-ticket='{pk}'] input.bulk-pick").click()
    expect(alice.locator("#bulk-count")).to_have_text(re.compile(r"^3 "), timeout=WAIT)
    expect(alice.locator("#bulk-bar")).to_have_attribute("data-ready", "1", timeout=WAIT)
    alice.select_option("#bulk-action", "merge")
    alice.select_option("#bulk-value", value=str(ids[0]))
    alice.click("#bulk-apply")
    expect(alice.locator("#bulk-results")).to_have_attribute("data-done", "3", timeout=WAIT)
    expect(alice.locator("#bulk-results")).to_contain_text(f"#{ids[0]} ✓ kept")
    closed = query(server, f"from tickets.models import Ticket; print(Ticket.objects.filter(pk__in={ids[1:]}, "
                           "status='closed').count())")
    assert closed == "2"
