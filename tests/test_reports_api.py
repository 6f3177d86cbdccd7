"""Reports through the REST API (/api/v1/reports/...), the CSV exports, the parameters' error
messages, and the satisfaction survey on the ticket resource."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError

from api.testing import ApiClient, create_token
from reports import csv as report_csv
from reports import figures, params
from surveys import services as survey_services
from surveys.models import Survey
from tests.factories import inbound
from tests.sla_helpers import T0, calendar_policy, fixed_clock  # noqa: F401
from tickets import services

pytestmark = pytest.mark.django_db

DAY = {"period": "custom", "start": "2026-11-30", "end": "2026-11-30", "tz": "UTC"}


@pytest.fixture
def lead(django_user_model):
    """A team lead: an agent with the "view reports" permission."""
    from tickets.management.commands.seed_demo import ensure_agents_group

    user = django_user_model.objects.create_user("lena", password="pw", first_name="Lena")
    user.groups.add(ensure_agents_group())
    user.user_permissions.add(Permission.objects.get(codename="view_reports", content_type__app_label="reports"))
    return user


@pytest.fixture
def api(lead):
    return ApiClient(create_token(lead))


@pytest.fixture
def solved(clock, agent):
    calendar_policy()
    ticket = services.ingest(inbound("ada@example.com", "=HYPERLINK(\"x\")", channel="fake",
                                     subject="=cmd|' /C calc'!A0")).message.ticket
    services.assign(ticket, assignee=agent, actor=agent)
    clock.at(12)
    services.reply(ticket, author=agent, text="Done")
    clock.at(30)
    services.set_status(ticket, "solved", actor=agent)
    clock.at(40)
    return ticket


def test_the_summary_has_every_figure_and_its_definition(api, solved):
    response = api.get("/reports/summary", DAY)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body["figures"]) == set(figures.FIGURES) == set(body["definitions"])
    assert body["figures"]["first_reply_time"]["median"] == 720
    assert body["figures"]["solved"] == {"value": 1}
    assert "full resolution time" in body["definitions"]["full_resolution_time"]
    assert body["period"]["start"] == "2026-11-30T00:00:00+00:00" and body["period"]["tz"] == "UTC"


def test_series_breakdown_and_drill(api, solved, agent):
    series = api.get("/reports/series", {**DAY, "figure": "solved"}).json()
    assert [(p["start"], p["value"]) for p in series["points"]] == [("2026-11-30", 1)]
    rows = api.get("/reports/breakdown", {**DAY, "figure": "first_reply_time", "by": "agent"}).json()["rows"]
    assert [(r["key"], r["label"], r["median"]) for r in rows] == [(agent.pk, "Agnes", 720)]
    drill = api.get("/reports/drill", {**DAY, "figure": "first_reply_time", "by": "agent", "key": str(agent.pk),
                                       "bucket_start": "2026-11-30"}).json()
    assert drill["count"] == 1 and drill["rows"][0]["ticket"] == solved.pk
    assert drill["rows"][0]["calendar_seconds"] == 720
    none = api.get("/reports/drill", {**DAY, "figure": "first_reply_time", "by": "agent", "key": "none"}).json()
    assert none["count"] == 0


def test_agents_without_the_permission_are_refused(agent, solved):
    response = ApiClient(create_token(agent)).get("/reports/summary", DAY)
    assert response.status_code == 403
    assert response.json()["message"] == "You may not view reports (permission reports.view_reports)."


def test_bad_parameters_are_422_naming_the_parameter(api):
    response = api.get("/reports/summary", {"period": "custom", "start": "2026-12-02", "end": "2026-12-01"})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [{"loc": ["query", "end"], "msg": "The end date is before the start date.",
                               "type": "value_error"}]
    assert api.get("/reports/summary", {"period": "year"}).status_code == 422
    assert api.get("/reports/series", {"figure": "happiness"}).status_code == 422
    response = api.get("/reports/summary", {"tz": "Mars/Olympus"})
    assert response.status_code == 422 and response.json()["errors"][0]["msg"] == "Unknown time zone Mars/Olympus."
    response = api.get("/reports/drill", {"figure": "created", "key": "3"})
    assert response.status_code == 422 and response.json()["message"] == "`key` needs `by`."
    response = api.get("/reports/drill", {"figure": "created", "by": "team", "key": "x"})
    assert response.status_code == 422 and response.json()["message"] == "key must be a number for team."


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"period": "custom"}, "start", "A custom period needs start and end dates (YYYY-MM-DD)."),
    ({"period": "custom", "start": "2025-01-01", "end": "2026-06-01"}, "end", "A period is at most 366 days."),
    ({"team": "sales"}, "team", "team must be a number (an id)."),
    ({"agent": str(2**70)}, "agent", "agent must be a number (an id)."),
    ({"period": "custom", "start": "0001-01-01", "end": "0001-01-02"}, "start", "Dates must be between 1970 and 9000."),
    ({"priority": "7"}, "priority", "priority must be 0 (low) to 3 (urgent)."),
    ({"bucket": "hour"}, "bucket", "bucket must be day, week or month."),
    ({"by": "colour"}, "by", "by must be one of channel, inbox, team, agent, tag, priority."),
])
def test_parameter_errors_say_what_is_wrong(query, field, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        params.parse(query)
    assert error.value.message_dict == {field: [message]}


def test_presets_and_default_buckets(clock):
    clock.at(0)
    q = params.parse({"period": "7d", "tz": "UTC"})
    assert (q.period.start.isoformat(), q.period.end.isoformat(), q.period.bucket) == (
        "2026-11-24T00:00:00+00:00", "2026-12-01T00:00:00+00:00", "day")
    q = params.parse({"period": "custom", "start": "2026-01-01", "end": "2026-03-31", "tz": "UTC"})
    assert q.period.bucket == "week" and q.period.buckets()[0].date().isoformat() == "2025-12-29"  # a Monday
    q = params.parse({"period": "custom", "start": "2026-01-15", "end": "2026-03-31", "tz": "UTC", "bucket": "month"})
    assert [b.date().isoformat() for b in q.period.buckets()] == ["2026-01-01", "2026-02-01", "2026-03-01"]


def test_csv_exports_stream_rows_and_defuse_formulas(solved, agent):
    q = params.parse(DAY)
    response = report_csv.drill_response(figures.drill(q, "first_reply_time"), "first-reply.csv")
    assert response.streaming and response["Content-Disposition"] == 'attachment; filename="first-reply.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["ticket"], r["agent_name"], r["calendar_seconds"]) for r in rows] == [(str(solved.pk), "Agnes", "720.0")]
    assert rows[0]["subject"] == "'=cmd|' /C calc'!A0"  # a spreadsheet shows it, never runs it
    table = report_csv.table_response(figures.breakdown(q, "sla_achievement", "channel"))
    lines = list(csv.reader(io.StringIO(b"".join(table.streaming_content).decode("utf-8-sig"))))
    assert lines[0][:3] == ["key", "label", "value"] and lines[1][:3] == ["fake", "fake", "1.0"]
    assert dict(zip(lines[0], lines[1], strict=True))["first_reply_achieved"] == "1"
    empty = report_csv.table_response(figures.breakdown(q, "csat", "agent"))
    assert b"".join(empty.streaming_content).decode("utf-8-sig") == "key,label,value\r\n"


def test_the_ticket_resource_carries_its_satisfaction_survey(api, solved, agent, clock):
    assert api.get(f"/tickets/{solved.pk}").json()["satisfaction"]["status"] == "scheduled"
    Survey.objects.filter(ticket=solved).update(status="sent", sent_at=T0, channel="email")
    survey = Survey.objects.get(ticket=solved)
    survey_services.record_rating(survey, 2, via="link")
    survey_services.record_rating(survey, 4, via="link")
    body = api.get(f"/tickets/{solved.pk}").json()["satisfaction"]
    assert (body["status"], body["rating"], body["agent"], body["channel"]) == ("answered", 4, agent.pk, "email")
    assert [(r["rating"], r["via"]) for r in body["replaced"]] == [(2, "link")]
    other = services.ingest(inbound("bo@example.com", "hi", channel="fake")).message.ticket
    assert api.get(f"/tickets/{other.pk}").json()["satisfaction"] is None


def test_reports_cost_a_fixed_number_of_queries(solved, django_assert_max_num_queries):
    q = params.parse(DAY)
    with django_assert_max_num_queries(8):  # created, solved, rated, surveyed, backlog (3), the zone
        figures.summary(q)


def test_the_demo_team_lead_may_view_reports_and_agents_may_not(django_user_model):
    from tickets.management.commands.seed_demo import Command

    Command()._ensure_users()
    alice, bob = django_user_model.objects.get(username="alice"), django_user_model.objects.get(username="bob")
    assert alice.has_perm("reports.view_reports") and not bob.has_perm("reports.view_reports")
