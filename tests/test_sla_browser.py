"""SLA badges in headless Chromium against a real server (Daphne + worker): a badge counts
down, turns red at its deadline, and the breach the worker records appears live in a second
agent's console."""

import re

import pytest

from tests.live import LiveServer, shifted_port
from tests.test_console_browser import WAIT, customer_writes, live, log_in, query, ticket_of

pytestmark = pytest.mark.browser

SERVER_PORT = shifted_port(8540)
# The deadline is put this many seconds ahead once the ticket exists (a 2-minute target whose
# ticket is backdated), so the test waits seconds, not whole minutes; enough for two consoles
# to load on a busy shared machine before it falls due.
TARGET_SECONDS = 120
LEFT = 75


@pytest.fixture(scope="module")
def server():
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]]) as live_server:
        live_server.shell(
            "from service_levels import services as sla; from service_levels.models import Policy; "
            "[sla.delete(p) for p in Policy.objects.all()]; "  # the demo's own policies: this one alone
            f"sla.save_policy(name='Fast', first_reply_minutes={TARGET_SECONDS // 60}, first_reply_business=False, warn_percent=50)")
        yield live_server


def due_in_seconds(server, ticket_id: int, seconds: int) -> None:
    """Backdate the ticket (and its message and events) so its first reply falls due
    `seconds` from now; recompute its record as the live hook would and wake the worker."""
    server.shell(
        "from datetime import timedelta\n"
        "from django.db import transaction\n"
        "from django.utils import timezone\n"
        "from service_levels.metrics import refresh, wake_by\n"
        "from tickets.models import Event, Message, Ticket\n"
        f"shift = timedelta(seconds={TARGET_SECONDS - seconds})\n"
        "with transaction.atomic():\n"
        f"    for model, field in ((Ticket, 'pk'), (Message, 'ticket_id'), (Event, 'ticket_id')):\n"
        f"        for row in model.objects.filter(**{{field: {ticket_id}}}):\n"
        "            model.objects.filter(pk=row.pk).update(created_at=row.created_at - shift)\n"
        f"    metrics = refresh({ticket_id}, rebuild=True)\n"
        "    wake_by(metrics.next_check_at)\n"
        "print(metrics.next_due_at)")


def test_a_badge_counts_down_turns_red_and_the_breach_shows_live_elsewhere(browser, server):
    from playwright.sync_api import expect

    alice = log_in(browser, server.url(""), "alice")
    bob = log_in(browser, server.url(""), "bob")
    try:
        ticket = ticket_of(server, customer_writes(server, "sla-visitor", "Is anyone there?"))
        server.shell(f"from django.contrib.auth.models import User; from tickets import services; "
                     f"from tickets.models import Ticket; "
                     f"services.assign(Ticket.objects.get(pk={ticket}), assignee=User.objects.get(username='bob'))")
        due_in_seconds(server, ticket, LEFT)
        for page in (alice, bob):
            page.goto("/console/")
            live(page)
        badge = alice.locator(f'#queue tr[data-ticket="{ticket}"] .sla-badge')
        expect(badge).to_have_text(re.compile(r"due in (1 min|\d+ s)"), timeout=WAIT)
        expect(badge).to_have_text(re.compile(r"due in \d+ s"), timeout=WAIT + 20_000)  # under a minute: seconds
        first = int(re.search(r"\d+", badge.inner_text()).group())
        expect(badge).not_to_have_text(f"due in {first} s", timeout=WAIT)  # it counts down by itself
        assert "sla-overdue" not in (badge.get_attribute("class") or "")
        expect(badge).to_have_class(re.compile(r"\bsla-overdue\b"), timeout=LEFT * 1000 + WAIT)
        expect(badge).to_have_text(re.compile(r"overdue \d+ s"))
        # The worker records the breach at the deadline; Bob (the assignee) is told at once.
        expect(bob.locator(".toast.sla-toast")).to_contain_text(f"SLA breached on #{ticket}", timeout=WAIT)
        assert query(server, "from service_levels.models import Alert; "
                             f"print(Alert.objects.filter(ticket_id={ticket}, kind='breach').count())") == "1"
        alice.goto(f"/console/tickets/{ticket}/")
        expect(alice.locator("#sla-head")).to_have_class(re.compile(r"\bsla-overdue\b"), timeout=WAIT)
        expect(alice.locator("#sla-targets")).to_contain_text("First reply")
    finally:
        alice.context.close()
        bob.context.close()


def test_the_queue_is_ordered_by_next_deadline_from_the_keyboard(browser, server):
    from playwright.sync_api import expect

    page = log_in(browser, server.url(""), "alice")
    try:
        page.goto("/console/")
        order = page.locator('nav.orders a[data-sort="deadline"]')
        expect(order).to_have_text("By next deadline")
        page.keyboard.press("Tab")  # into the page, then to the link by the keyboard alone
        for _ in range(150):
            if page.evaluate("document.activeElement && document.activeElement.dataset.sort") == "deadline":
                break
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.sort") == "deadline"
        page.keyboard.press("Enter")  # follows the link (the queue's Enter shortcut leaves links alone)
        page.wait_for_url(re.compile(r"sort=deadline"), timeout=WAIT)
        expect(page.locator('nav.orders a[data-sort="deadline"]')).to_have_attribute("aria-current", "true")
        expect(page.locator('nav.views a[data-view="mine"]')).to_have_attribute(
            "href", re.compile(r"sort=deadline"))
    finally:
        page.context.close()
