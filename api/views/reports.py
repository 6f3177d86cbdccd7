"""The Reports in the REST API (/api/v1/reports/...): the same figures as the console page,
from reports.figures, for tokens of users with the "view reports" permission
(reports.view_reports). Visibility follows the user: an agent limited to teams gets figures of
those teams' tickets only.

Every operation takes the same report parameters (reports.params: period, start, end, bucket,
tz, the filters and `by`); they are parsed by reports.params.parse so the page and the API
refuse the same input with the same messages."""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from api.common import READ_ERRORS
from api.errors import ApiError
from reports import figures, params

router = Router(tags=["reports"])

FigureName = Literal[tuple(figures.FIGURES)]  # type: ignore[valid-type]
Dimension = Literal[params.DIMENSIONS]  # type: ignore[valid-type]


class ReportParams(Schema):
    period: Literal["today", "7d", "30d", "custom"] = Field("30d", description="today, the last 7 or 30 days "
                                                            "(ending today), or custom (start and end).")
    start: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="First day (custom), YYYY-MM-DD.")
    end: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="Last day, inclusive (custom).")
    bucket: Literal["day", "week", "month"] | None = Field(None, description="Default: day up to 31 days, else week.")
    tz: str | None = Field(None, max_length=64, description="IANA time zone; default: the team's schedule's.")
    channel: list[str] | None = Field(None, description="Origin channel(s).")
    inbox: list[str] | None = Field(None, description="Inbox key(s), e.g. email:support@example.com.")
    team: list[int] | None = Field(None, description="Team id(s).")
    agent: list[int] | None = Field(None, description="Agent id(s): the first replier (CSAT: agent when rated).")
    tag: list[int] | None = Field(None, description="Tag id(s).")
    priority: list[int] | None = Field(None, description="0 low .. 3 urgent.")


class SummaryOut(Schema):
    period: dict
    figures: dict[str, dict] = Field(description="Every figure's aggregate; `value` is its headline number "
                                                 "(a count, a rate 0..1, a median in seconds, a mean).")
    definitions: dict[str, str]


class SeriesOut(Schema):
    figure: str
    bucket: str
    tz: str
    points: list[dict]


class BreakdownOut(Schema):
    figure: str
    by: str
    rows: list[dict]
    total: dict


class DrillOut(Schema):
    figure: str
    count: int
    rows: list[dict] = Field(description="The tickets behind the figure with the per-ticket values that made it.")


def _query(request, by=None):
    if not request.user.has_perm("reports.view_reports"):
        raise ApiError(403, "forbidden", _("You may not view reports (permission reports.view_reports)."))
    data = request.GET.copy()
    if by is not None:
        data["by"] = by
    try:
        return params.parse(data, request.user)
    except DjangoValidationError as exc:
        raise ApiError(422, "invalid_request", _("The report parameters are invalid."),
                       [{"loc": ["query", field], "msg": str(messages[0]), "type": "value_error"}
                        for field, messages in exc.message_dict.items()]) from exc


@router.get("/reports/summary", response={200: SummaryOut, **READ_ERRORS}, summary="Every report figure")
def report_summary(request, filters: Query[ReportParams]):
    """Every figure over the period, with the filters applied."""
    return {**figures.summary(_query(request)), "definitions": figures.definitions()}


@router.get("/reports/series", response={200: SeriesOut, **READ_ERRORS}, summary="A figure over time")
def report_series(request, figure: FigureName, filters: Query[ReportParams]):
    """One figure per bucket (day, week or month, in the report's time zone)."""
    return figures.series(_query(request), figure)


@router.get("/reports/breakdown", response={200: BreakdownOut, **READ_ERRORS}, summary="A figure broken down")
def report_breakdown(request, figure: FigureName, by: Dimension, filters: Query[ReportParams]):
    """One figure per channel, inbox, team, agent, tag or priority. A ticket with two tags
    counts under both."""
    return figures.breakdown(_query(request, by), figure, by)


@router.get("/reports/drill", response={200: DrillOut, **READ_ERRORS}, summary="The tickets behind a figure")
def report_drill(request, figure: FigureName, filters: Query[ReportParams],
                 bucket_start: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                                                  description="Only this bucket: its start, as `series` gives it."),
                 by: Dimension | None = None,
                 key: str | None = Query(None, max_length=200, description="A breakdown key (with `by`); "
                                                                           "`none` for tickets without one.")):
    q = _query(request, by)
    if key is not None and by is None:
        raise ApiError(422, "invalid_request", _("`key` needs `by`."))
    try:
        rows = figures.drill(q, figure, bucket=bucket_start, key=key, by=by)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from exc
    return {"figure": figure, "count": len(rows), "rows": rows}
