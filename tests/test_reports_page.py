"""The console's Reports page: who may see it, the form, the tiles, the charts' tables, the
drill-down behind a figure, the CSV exports, and a query count that does not grow with the
tickets."""

import csv
import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import inbound
from tickets import services
from tickets.models import Team, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(agent):
    agent.user_permissions.add(Permission.objects.get(codename="view_reports", content_type__app_label="reports"))
    return agent


@pytest.fixture
def reports(client, lead):
    client.force_login(lead)
    return client


def make_tickets(agent, n, *, team=None, solve=True, channel="email"):
    made = []
    for i in range(n):
        sender = f"c{i}-{channel}@example.com" if channel == "email" else f"+1415555{i:04d}"
        ticket = services.ingest(inbound(sender, f"help {i}", channel=channel)).message.ticket
        if team:
            services.assign(ticket, assignee=agent, team=team, actor=agent)
        services.reply(ticket, author=agent, text="on it")
        if solve:
            services.set_status(ticket, Ticket.Status.SOLVED, actor=agent)
        made.append(ticket)
    return made


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_only_users_with_the_reports_permission_see_the_page_and_the_link(client, agent):
    client.force_login(agent)
    assert client.get("/console/reports/").status_code == 403
    assert 'id="reports-link"' not in client.get("/console/").content.decode()
    agent.user_permissions.add(Permission.objects.get(codename="view_reports"))
    assert 'id="reports-link"' in client.get("/console/").content.decode()
    assert client.get("/console/reports/").status_code == 200


def test_the_page_shows_every_figure_as_a_tile_with_its_definition_and_drill_link(reports, lead):
    make_tickets(lead, 3)
    make_tickets(lead, 1, solve=False, channel="sms")
    response = reports.get("/console/reports/", {"period": "today"})
    assert response.status_code == 200
    tiles = {t["name"]: t for t in response.context["tiles"]}
    assert list(tiles) == ["created", "solved", "backlog", "first_reply_time", "next_reply_time",
                           "full_resolution_time", "sla_achievement", "reopen_rate", "one_touch_rate", "csat",
                           "survey_response_rate", "messages_per_ticket"]
    assert (tiles["created"]["value"], tiles["solved"]["value"], tiles["backlog"]["value"]) == ("4", "3", "1")
    assert tiles["one_touch_rate"]["value"] == "100%" and tiles["one_touch_rate"]["detail"] == "3 of 3"
    assert "first public reply" in tiles["first_reply_time"]["definition"]
    assert tiles["created"]["href"].startswith("/console/reports/drill/?") and "figure=created" in tiles["created"]["href"]
    html = response.content.decode()
    assert 'role="tooltip"' in html and "Tickets created in the period" in html
    assert html.count("<canvas") == 2  # volume and the chosen figure's trend (no breakdown asked)


def test_the_tables_behind_the_charts_link_each_cell_to_its_drill_down(reports, lead):
    make_tickets(lead, 2)
    response = reports.get("/console/reports/", {"period": "7d", "bucket": "day"})
    volume = response.context["volume"]
    assert len(volume["rows"]) == 7
    today = volume["rows"][-1]
    assert [c["value"] for c in today["cells"]] == [2, 2, 0]
    href = today["cells"][0]["href"]
    assert f"bucket_start={today['start']}" in href and "bucket=day" in href and "figure=created" in href
    trend = response.context["trend"]
    assert trend["figure"] == "first_reply_time" and trend["columns"][0]["unit"] == "h"


def test_a_breakdown_draws_a_third_chart_with_a_row_per_key(reports, lead):
    support, sales = Team.objects.create(name="Support"), Team.objects.create(name="Sales")
    make_tickets(lead, 2, team=support)
    make_tickets(lead, 1, team=sales, channel="sms")
    response = reports.get("/console/reports/", {"period": "today", "chart": "solved", "by": "team"})
    rows = response.context["breakdown"]["rows"]
    assert [(r["label"], r["cells"][0]["value"]) for r in rows] == [("Sales", 1), ("Support", 2)]
    assert f"key={support.pk}" in rows[1]["cells"][0]["href"] and "by=team" in rows[1]["cells"][0]["href"]
    assert response.content.decode().count("<canvas") == 3


def test_bad_parameters_get_the_form_back_with_every_mistake_and_a_400(reports):
    response = reports.get("/console/reports/", {"period": "custom", "start": "2026-13-01", "chart": "vibes"})
    assert response.status_code == 400
    page = text(response)
    assert "A custom period needs start and end dates" in page and "Choose a figure" in page
    assert 'id="report-form"' in response.content.decode() and "<canvas" not in response.content.decode()


def test_the_drill_down_lists_the_tickets_behind_a_figure_with_their_values(reports, lead):
    support = Team.objects.create(name="Support")
    mine = make_tickets(lead, 2, team=support)
    make_tickets(lead, 1)
    response = reports.get("/console/reports/drill/", {"period": "today", "figure": "first_reply_time",
                                                        "by": "team", "key": str(support.pk)})
    assert response.status_code == 200
    html = response.content.decode()
    assert sorted(int(t) for t in re.findall(r'<tr data-ticket="(\d+)"', html)) == sorted(t.pk for t in mine)
    assert f'href="/console/tickets/{mine[0].pk}/"' in html
    assert "Calendar time" in html and "Business hours" in html
    assert "Team: Support" in text(response) and "2 rows" in text(response)


def test_drill_down_csv_has_one_row_per_ticket_and_table_csvs_match_the_tables(reports, lead):
    tickets = make_tickets(lead, 3)
    response = reports.get("/console/reports/drill.csv", {"period": "today", "figure": "solved"})
    assert response["Content-Disposition"] == 'attachment; filename="solved-tickets.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert sorted(int(r["ticket"]) for r in rows) == sorted(t.pk for t in tickets)
    volume = reports.get("/console/reports/table.csv", {"period": "today", "table": "volume"})
    rows = list(csv.DictReader(io.StringIO(b"".join(volume.streaming_content).decode("utf-8-sig"))))
    assert [(r["created"], r["solved"], r["backlog"]) for r in rows] == [("3", "3", "0")]
    assert reports.get("/console/reports/table.csv", {"period": "today", "table": "breakdown"}).status_code == 400


def report_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/console/reports/", {"period": "30d", "by": "team", "chart": "csat"}).status_code == 200
    return len(captured)


def test_the_report_page_runs_a_constant_number_of_queries(reports, lead, django_assert_num_queries):
    team = Team.objects.create(name="Support")
    make_tickets(lead, 2, team=team)
    few = report_queries(reports)
    make_tickets(lead, 30, team=team)
    make_tickets(lead, 10, channel="sms", solve=False)
    with django_assert_num_queries(few):
        reports.get("/console/reports/", {"period": "30d", "by": "team", "chart": "csat"})


def test_a_bucket_drill_down_lists_that_buckets_tickets(reports, lead):
    tickets = make_tickets(lead, 2)
    response = reports.get("/console/reports/", {"period": "7d", "bucket": "day"})
    today = response.context["volume"]["rows"][-1]
    drilled = reports.get(today["cells"][1]["href"])
    ids = sorted(int(t) for t in re.findall(r'<tr data-ticket="(\d+)"', drilled.content.decode()))
    assert ids == sorted(t.pk for t in tickets)


def test_a_lead_limited_to_teams_sees_only_their_teams_tickets(client, lead, restricted):
    restricted.user_permissions.add(Permission.objects.get(codename="view_reports"))
    support, sales = Team.objects.get(name="Support"), Team.objects.create(name="Sales")
    theirs = make_tickets(lead, 2, team=support)
    make_tickets(lead, 3, team=sales, channel="sms")
    client.force_login(restricted)
    tiles = {t["name"]: t["value"] for t in client.get("/console/reports/", {"period": "today"}).context["tiles"]}
    assert tiles["created"] == "2"
    html = client.get("/console/reports/drill/", {"period": "today", "figure": "created"}).content.decode()
    assert sorted(int(t) for t in re.findall(r'<tr data-ticket="(\d+)"', html)) == sorted(t.pk for t in theirs)
