"""The console's Reports pages: the report (tiles, charts, tables), the drill-down behind any
figure, and CSV exports of both. Views parse (reports.params), authorise (`reports.view_reports`),
read `reports.figures` and render; presenting.py turns figures into tiles and tables."""

from __future__ import annotations

import logging
from functools import wraps

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from reports import csv, figures, params, presenting
from reports.definitions import DIMENSION_LABELS
from tickets.console.queries import agents
from tickets.console.views import agent_required
from tickets.models import Tag, Team, Ticket

log = logging.getLogger(__name__)

DEFAULT_CHART = "first_reply_time"
DRILL_LIMIT = 500  # rows shown on the page; the CSV has them all
PRESET_LABELS = {"today": gettext_lazy("Today"), "7d": gettext_lazy("Last 7 days"), "30d": gettext_lazy("Last 30 days"),
                 "custom": gettext_lazy("Custom range")}


def reports_required(view):
    """Team leads and whoever else an admin gives `reports.view_reports`."""
    @wraps(view)
    @agent_required
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm("reports.view_reports"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


class BadRequest(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _query(request, *, need_figure: bool = False):
    """(ReportQuery, figure name or None); BadRequest names every wrong parameter."""
    errors = {}
    try:
        q = params.parse(request.GET, request.user)
    except ValidationError as exc:
        q, errors = None, dict(exc.message_dict)
    name = request.GET.get("figure" if need_figure else "chart") or (None if need_figure else DEFAULT_CHART)
    if name not in figures.FIGURES:
        key = "figure" if need_figure else "chart"
        errors[key] = [_("Choose a figure: one of %(choices)s.") % {"choices": ", ".join(figures.FIGURES)}]
    if errors:
        log.info("reports: refused parameters %s: %s", request.GET.urlencode()[:500], errors)
        raise BadRequest(errors)
    return q, name


def _choices():
    inboxes = []
    if apps.is_installed("routing"):
        inboxes = [(i.key, i.name) for i in apps.get_model("routing", "Inbox").objects.order_by("name")]
    return {
        "presets": list(PRESET_LABELS.items()),
        "buckets": [("day", _("Day")), ("week", _("Week")), ("month", _("Month"))],
        "channels": [(c, c) for c in settings.HELPDESK_CHANNELS],
        "inboxes": inboxes,
        "teams": [(str(t.pk), t.name) for t in Team.objects.order_by("name")],
        "agents": [(str(a.pk), a.get_full_name() or a.get_username()) for a in agents()],
        "tags": [(str(t.pk), t.name) for t in Tag.objects.order_by("name")[:500]],
        "priorities": [(str(v), label) for v, label in Ticket.Priority.choices],
        "dimensions": [(d, DIMENSION_LABELS[d]) for d in params.DIMENSIONS],
        "figures": [(name, presenting.LABELS[name]) for name in figures.FIGURES if name != "backlog"],
    }


def _form(request) -> dict:
    """The form's current values (what the page was asked for), for the template."""
    get = request.GET
    return {"period": get.get("period") or "30d", "start": get.get("start", ""), "end": get.get("end", ""),
            "bucket": get.get("bucket", ""), "tz": get.get("tz", ""), "by": get.get("by", ""),
            "chart": get.get("chart") or DEFAULT_CHART,
            **{dim: get.get(dim, "") for dim in params.DIMENSIONS}}


def _context(request, **more):
    form, choices = _form(request), _choices()
    for dim, key in (("channel", "channels"), ("inbox", "inboxes"), ("team", "teams"), ("agent", "agents"),
                     ("tag", "tags"), ("priority", "priorities")):
        if form[dim] and form[dim] not in dict(choices[key]):  # a shared link's value we do not list
            choices[key].append((form[dim], form[dim]))
    return {"form": form, "choices": choices, **more}


@require_GET
@reports_required
def report(request):
    try:
        q, chart = _query(request)
    except BadRequest as bad:
        return render(request, "reports/report.html", _context(request, errors=bad.errors), status=400)
    # In this order, figures' shared per-query data serves each read once: the backlog's counts
    # (the created and solved series are theirs; the summary sums them), then the summary's rows (the chart's series and breakdown
    # reuse them).
    series = {name: figures.series(q, name) for name in ("backlog", "created", "solved")}
    summary = figures.summary(q)
    series[chart] = series.get(chart) or figures.series(q, chart)
    kinds = {name: figures.FIGURES[name].kind for name in figures.FIGURES}
    link = presenting.linker(request.GET)
    definitions = figures.definitions()
    tiles = [{"name": name, "label": presenting.LABELS[name], "value": presenting.headline(kinds[name], agg),
              "detail": presenting.detail(kinds[name], agg), "definition": definitions.get(name, ""),
              "href": link(figure=name)}
             for name, agg in summary["figures"].items()]
    volume = presenting.volume_table(series["created"], series["solved"], series["backlog"], link)
    trend = presenting.series_table(series[chart], kinds[chart], link)
    breakdown = None
    if q.by:
        breakdown = presenting.breakdown_table(figures.breakdown(q, chart, q.by), kinds[chart], link)
    return render(request, "reports/report.html", _context(
        request, report=q, period_text=presenting.period_text(q.period), tiles=tiles, volume=volume, trend=trend,
        breakdown=breakdown, chart=chart, chart_label=presenting.LABELS[chart], by_label=DIMENSION_LABELS.get(q.by, ""),
        chart_unit=presenting.columns(kinds[chart])[0]["unit"], csv_base=reverse("reports:table_csv"),
        query=request.GET.urlencode()))


def _drill_rows(request):
    q, name = _query(request, need_figure=True)
    try:
        rows = figures.drill(q, name, bucket=request.GET.get("bucket_start") or None, key=request.GET.get("key") or None)
    except ValueError as exc:
        log.info("reports: refused drill-down %s: %s", request.GET.urlencode()[:500], exc)
        raise BadRequest({"bucket_start": [str(exc)]}) from exc
    return q, name, rows


@require_GET
@reports_required
def drill(request):
    try:
        q, name, rows = _drill_rows(request)
    except BadRequest as bad:
        return render(request, "reports/drill.html", _context(request, errors=bad.errors), status=400)
    cols = presenting.drill_columns(rows)
    back = request.GET.copy()
    for key in presenting.DRILL_KEYS:
        back.pop(key, None)
    by = request.GET.get("by") if request.GET.get("key") else None
    return render(request, "reports/drill.html", _context(
        request, figure=name, label=presenting.LABELS[name], definition=figures.definitions().get(name, ""),
        headings=[presenting.DRILL_HEADINGS.get(c, c.replace("_", " ")) for c in cols],
        rows=presenting.drill_rows(rows[:DRILL_LIMIT], cols, q.period.tz, dict(Ticket.Priority.choices)),
        total=len(rows), limited=len(rows) > DRILL_LIMIT, limit=DRILL_LIMIT,
        bucket=presenting.bucket_label(request.GET["bucket_start"], q.period.bucket) if request.GET.get("bucket_start") else "",
        by_label=DIMENSION_LABELS.get(by, "") if by else "", key_label=_key_label(by, request.GET.get("key")),
        back=f"{reverse('reports:report')}?{back.urlencode()}",
        csv_href=f"{reverse('reports:drill_csv')}?{request.GET.urlencode()}"))


def _key_label(by: str | None, key: str | None) -> str:
    if not by or key is None:
        return ""
    if key == "none":
        return _("(none)")
    choices = _choices()
    named = {"team": choices["teams"], "agent": choices["agents"], "tag": choices["tags"],
             "priority": choices["priorities"], "inbox": choices["inboxes"]}.get(by, [])
    return dict(named).get(key, key)


@require_GET
@reports_required
def drill_csv(request):
    try:
        _q, name, rows = _drill_rows(request)
    except BadRequest as bad:
        return render(request, "reports/drill.html", _context(request, errors=bad.errors), status=400)
    return csv.drill_response(rows, f"{name}-tickets.csv")


@require_GET
@reports_required
def table_csv(request):
    """?table=volume | trend | breakdown, with the report's own parameters (chart=, by=)."""
    table = request.GET.get("table")
    try:
        q, chart = _query(request)
        if table not in ("volume", "trend", "breakdown") or (table == "breakdown" and not q.by):
            raise BadRequest({"table": [_("table must be volume, trend or breakdown (with by=).")]})
    except BadRequest as bad:
        return render(request, "reports/report.html", _context(request, errors=bad.errors), status=400)
    if table == "volume":
        data = presenting.volume_csv_table(*(figures.series(q, n) for n in ("created", "solved", "backlog")))
        return csv.table_response(data, "tickets-volume.csv")
    if table == "trend":
        return csv.table_response(figures.series(q, chart), f"{chart}-by-{q.period.bucket}.csv")
    return csv.table_response(figures.breakdown(q, chart, q.by), f"{chart}-by-{q.by}.csv")
