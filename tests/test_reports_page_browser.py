"""The Reports page in headless Chromium: the charts are drawn (canvas with paint on it) at
desktop and phone sizes in light and dark, a click on a bar opens the drill-down listing exactly
the tickets behind it, its CSV downloads with those rows, and the form, the tiles and the
drill-down work with the keyboard alone."""

import csv
import io
import json
import os
import re

import pytest

from tests.live import LiveServer, shifted_port
from tests.test_console_design_browser import VIEWPORTS, WAIT, log_in

pytestmark = pytest.mark.browser

SERVER_PORT = shifted_port(8660)
REPORT = "/console/reports/?period=today&chart=solved&by=team"

# Two teams with known tickets, made today through the services (so per-ticket metrics exist):
# Sales has 2 solved SMS tickets, Billing 3 solved emails and 1 still open.
SEED = """
from django.contrib.auth.models import User
from tickets import services
from tickets.models import Team
from tests.factories import inbound
alice = User.objects.get(username="alice")
made = {}
for team_name, channel, n, open_ in (("Sales", "sms", 2, 0), ("Billing", "email", 3, 1)):
    team = Team.objects.get_or_create(name=team_name)[0]
    for i in range(n + open_):
        sender = f"+1415666{i:04d}" if channel == "sms" else f"report{i}@example.com"
        t = services.ingest(inbound(sender, f"report seed {team_name} {i}", channel=channel)).message.ticket
        services.assign(t, assignee=alice, team=team, actor=alice)
        services.reply(t, author=alice, text="on it")
        if i < n:
            services.set_status(t, "solved", actor=alice)
            made.setdefault(team_name, []).append(t.pk)
import json; print(json.dumps(made))
"""


@pytest.fixture(scope="module")
def server():
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]]) as live:
        live.solved = json.loads(live.shell(SEED).splitlines()[-1])
        yield live


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Screenshots for a person to look at (HELPDESK_SCREENSHOT_DIR keeps them)."""
    return os.environ.get("HELPDESK_SCREENSHOT_DIR") or str(tmp_path_factory.mktemp("report-shots"))


def expect(locator):
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def page_in(browser, server, viewport="desktop", scheme="light", **kwargs):
    context = browser.new_context(base_url=server.url(""), viewport=VIEWPORTS[viewport], color_scheme=scheme,
                                  has_touch=viewport == "phone", **kwargs)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" and "Failed to load" not in msg.text else None)
    page.on("response", lambda r: page.errors.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return page


def painted(page, canvas_id) -> int:
    """How many pixels of the canvas are not transparent: > 0 once Chart.js has drawn on it."""
    return page.evaluate("""(id) => {
        const c = document.getElementById(id);
        if (!c || !c.width || !c.height) return 0;
        const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < data.length; i += 4) if (data[i]) n++;
        return n; }""", canvas_id)


def bar_point(page, canvas_id, dataset, index) -> tuple[float, float]:
    """Where a bar or point is in the window (Chart.js knows where it drew it), scrolled into view."""
    page.locator(f"#{canvas_id}").scroll_into_view_if_needed()
    return tuple(page.evaluate("""([id, d, i]) => {
        const canvas = document.getElementById(id);
        const p = Chart.getChart(canvas).getDatasetMeta(d).data[i].getCenterPoint();
        const box = canvas.getBoundingClientRect();
        return [box.left + p.x, box.top + p.y]; }""", [canvas_id, dataset, index]))


def drilled_tickets(page) -> list[int]:
    return sorted(int(t) for t in page.locator("#drill-table tbody tr[data-ticket]").evaluate_all(
        "rows => rows.map(r => r.dataset.ticket)"))


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_charts_are_drawn_at_both_sizes_in_both_themes(server, browser, shots, viewport, scheme):
    page = page_in(browser, server, viewport, scheme)
    try:
        log_in(page)
        page.locator("#reports-link").click()
        page.wait_for_url(re.compile(r"/console/reports/"), timeout=WAIT)
        page.goto(REPORT)
        for chart in ("volume-chart", "trend-chart", "breakdown-chart"):
            expect(page.locator(f"#{chart}")).to_be_visible(timeout=WAIT)
            assert painted(page, chart) > 500, f"{chart} has nothing drawn on it ({viewport}, {scheme})"
        page.screenshot(path=f"{shots}/reports-{viewport}-{scheme}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, "scrolls sideways"
        bg = page.evaluate("getComputedStyle(document.querySelector('.report-chart')).backgroundColor")
        assert bg == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(23, 29, 38)")  # --surface
        # The legend is painted in the theme's text colour (read when drawn, again on a switch).
        legend = page.evaluate("Chart.getChart(document.getElementById('volume-chart')).options.plugins.legend.labels.color")
        assert legend == ("#1d2430" if scheme == "light" else "#e6e9ef")
        page.locator("#theme-toggle").click()
        legend = page.evaluate("Chart.getChart(document.getElementById('volume-chart')).options.plugins.legend.labels.color")
        assert legend == ("#e6e9ef" if scheme == "light" else "#1d2430")
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_a_click_on_a_bar_drills_down_to_its_tickets_and_the_csv_has_them(server, browser, shots):
    page = page_in(browser, server, accept_downloads=True)
    try:
        log_in(page)
        page.goto(REPORT)
        labels = page.locator("#breakdown-table tbody th").all_inner_texts()
        sales = labels.index("Sales")
        x, y = bar_point(page, "breakdown-chart", 0, sales)
        page.mouse.click(x, y)
        page.wait_for_url(re.compile(r"/console/reports/drill/"), timeout=WAIT)
        assert "figure=solved" in page.url and "by=team" in page.url
        expect(page.locator("#drill-title")).to_contain_text("Team: Sales")
        assert drilled_tickets(page) == sorted(server.solved["Sales"])
        page.screenshot(path=f"{shots}/reports-drill.png", full_page=True)

        with page.expect_download() as download:
            page.locator("#drill-csv").click()
        assert download.value.suggested_filename == "solved-tickets.csv"
        rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
        assert sorted(int(r["ticket"]) for r in rows) == sorted(server.solved["Sales"])
        assert {r["team_name"] for r in rows} == {"Sales"}

        # A point of the volume chart: today's solved tickets (every seeded solve, and seed_demo's).
        page.goto(REPORT)
        columns = page.locator("#volume-table thead th").all_inner_texts()
        x, y = bar_point(page, "volume-chart", columns.index("Tickets solved") - 1, 0)
        page.mouse.click(x, y)
        page.wait_for_url(re.compile(r"figure=solved"), timeout=WAIT)
        ids = drilled_tickets(page)
        assert set(server.solved["Sales"] + server.solved["Billing"]) <= set(ids)
        expect(page.locator("#drill-count")).to_have_text(f"{len(ids)} rows")

        # The table's CSV link downloads the table the chart is drawn from.
        page.goto(REPORT)
        with page.expect_download() as download:
            page.locator("#breakdown-csv").click()
        rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
        by_label = {r["label"]: r["value"] for r in rows}
        assert by_label["Sales"] == "2" and by_label["Billing"] == "3"
        assert not page.errors, page.errors
    finally:
        page.context.close()


def tab_to(page, selector, limit=80):
    """Press Tab until `selector` has the focus (fails if it never does: not reachable by keyboard)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_the_form_the_tiles_and_the_drill_down_work_with_the_keyboard_only(server, browser):
    page = page_in(browser, server)
    try:
        log_in(page)
        page.goto("/console/reports/")
        tab_to(page, "#r-period")
        page.keyboard.press("Home")  # the first choice: today
        expect(page.locator("#r-period")).to_have_value("today")
        tab_to(page, "#r-team")
        page.keyboard.type("Billing")  # type-ahead picks the option
        expect(page.locator("#r-team option:checked")).to_have_text("Billing")
        tab_to(page, "#r-show")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"period=today.*team=\d+"), timeout=WAIT)

        # A tile's definition opens from its button, and the tile itself drills down.
        tab_to(page, ".tile[data-figure=solved] .def-toggle")
        page.keyboard.press("Enter")
        expect(page.locator("#def-solved")).to_be_visible()
        expect(page.locator("#def-solved")).to_contain_text("latest solve")
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.closest('.tile').dataset.figure") == "solved"
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/drill/.*figure=solved"), timeout=WAIT)
        assert drilled_tickets(page) == sorted(server.solved["Billing"])

        # Every ticket of the drill-down opens from the keyboard.
        first = drilled_tickets(page)[0]
        tab_to(page, f'#drill-table a[href="/console/tickets/{first}/"]')
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/console/tickets/{first}/"), timeout=WAIT)
        assert not page.errors, page.errors
    finally:
        page.context.close()
