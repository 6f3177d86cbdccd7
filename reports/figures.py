"""The Reports interface: every figure of issue 15, computed one way for the page, the API and
CSV exports. Read the figures' definitions in `reports.definitions` (README "Reports").

    from reports import params, figures
    q = params.parse(request.GET, request.user)   # -> params.ReportQuery (ValidationError on bad input)
    figures.summary(q)               -> {"period": {...}, "figures": {name: aggregate}}
    figures.series(q, "created")     -> {"figure", "bucket", "tz", "points": [{"start", "end", **aggregate}]}
    figures.breakdown(q, "csat", "agent")  -> {"figure", "by", "rows": [{"key", "label", **aggregate}], "total"}
    figures.drill(q, "first_reply_time", bucket="2026-11-02", key=None)  -> [row, ...]
    figures.FIGURES, figures.definitions()

An *aggregate* always has "value" (the headline number: a count, a rate 0..1, a median in
seconds or a mean), plus per kind:
  count     {"value"}
  duration  {"value" = calendar median, "median", "p90", "business_median", "business_p90", "count"}
            (seconds; business None where no business-hours schedule applies)
  rate      {"value", "numerator", "denominator"}
  mean      {"value", "total", "count"}
  sla       {"value" over all targets, "numerator", "denominator", "by_target": {kind: rate}}
  backlog   {"value" = unsolved at the end of the period/bucket}
A drill *row* is one ticket (SLA: one target of one ticket) with "ticket", "subject", "at"
(ISO: what dates it into the period), "channel", "inbox", "team", "team_name", "priority",
"agent", "agent_name" and the per-ticket values that made the figure (see FIGURES' `values`).

The figures of one query share one read of the period's rows and counts, kept on the query
(`_ReportData`): parse a new query per request (a kept query would answer from its first read).

`bucket` is the bucket's start date in the report's time zone (YYYY-MM-DD, as `series` gives
it); `key` is a breakdown key (with `by` in the query, or by= here).
"""

from __future__ import annotations

import bisect
import functools
import gc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from reports import sources, stats
from reports.definitions import DEFINITIONS
from reports.params import bucket_start, next_bucket
from tickets.models import Tag, Team, Ticket
from tickets.people import display_name

SLA_KINDS = ("first_reply", "next_reply", "resolution")


@dataclass(frozen=True)
class Figure:
    name: str
    source: str  # reports.sources.SOURCES key ("" for the backlog)
    kind: str  # count / duration / rate / mean / sla / backlog
    values: tuple = ()  # the columns the source must read
    # row -> the per-ticket values that made the figure (drill columns), or None: not in it.
    extract: Callable[[dict], list[dict] | dict | None] | None = None
    detail: tuple = ()  # more columns, read for a drill-down only (extract uses them when there)
    # A rate whose every row counts in the denominator: `extract`'s "counted" as a condition, so
    # a summary counts it in the database when nothing else needs the rows (the timeline tests
    # assert both ways give the same figure).
    counted: Q | None = None


def _duration(calendar: str, business: str):
    def extract(row):
        if row[calendar] is None:
            return None  # never answered / not solved: left out, not zero
        return {"calendar_seconds": row[calendar], "business_seconds": row[business]}
    return extract


def _next_replies(row):
    waits = [{"calendar_seconds": c, "business_seconds": b} for c, b in (row["next_replies"] or [])]
    return waits or None


def _targets(row):
    """Each settled target (TicketMetrics.sla_outcomes); in a drill-down, with its figures."""
    if "targets" in row:
        out = [{"target": t["kind"], "state": t["state"], "target_minutes": t.get("minutes"),
                "business": t.get("business"), "elapsed_seconds": t.get("elapsed"), "over_seconds": t.get("over")}
               for t in (row["targets"] or []) if t.get("state") in ("achieved", "breached")]
    else:
        out = [{"target": target, "state": state}
               for target, _sep, state in (outcome.partition(":") for outcome in (row["sla_outcomes"] or "").split())]
    return out or None


FIGURES = {f.name: f for f in [
    Figure("created", "created", "count", (), lambda r: {}),
    Figure("solved", "solved", "count", ("reopens",), lambda r: {"reopens": r["reopens"]}),
    Figure("backlog", "", "backlog"),
    Figure("first_reply_time", "solved", "duration", ("first_reply_seconds", "first_reply_business_seconds"),
           _duration("first_reply_seconds", "first_reply_business_seconds")),
    Figure("next_reply_time", "solved", "duration", ("next_replies",), _next_replies),
    Figure("full_resolution_time", "solved", "duration",
           ("full_resolution_seconds", "full_resolution_business_seconds"),
           _duration("full_resolution_seconds", "full_resolution_business_seconds")),
    Figure("sla_achievement", "solved", "sla", ("sla_outcomes",), _targets, detail=("targets",)),
    Figure("reopen_rate", "solved", "rate", ("reopens",),
           lambda r: {"reopens": r["reopens"], "counted": r["reopens"] > 0}),
    Figure("one_touch_rate", "solved", "rate", ("public_replies",),
           lambda r: {"public_replies": r["public_replies"], "counted": r["public_replies"] == 1}),
    Figure("csat", "rated", "rate", ("rating",), lambda r: {"rating": r["rating"], "counted": r["rating"] >= 4},
           counted=Q(rating__gte=4)),
    Figure("survey_response_rate", "surveyed", "rate", ("rating",),
           lambda r: {"survey_status": r.get("status"), "rating": r["rating"], "counted": r["rating"] is not None},
           detail=("status",), counted=Q(rating__isnull=False)),
    Figure("messages_per_ticket", "solved", "mean", ("customer_messages", "public_replies"),
           lambda r: {"customer_messages": r["customer_messages"], "public_replies": r["public_replies"],
                      "messages": r["customer_messages"] + r["public_replies"]}),
]}


def definitions() -> dict[str, str]:
    return {name: str(text) for name, text in DEFINITIONS.items()}


def figure(name: str) -> Figure:
    if name not in FIGURES:
        raise KeyError(_("Unknown figure %(name)s; one of: %(choices)s.") % {"name": name,
                                                                            "choices": ", ".join(FIGURES)})
    return FIGURES[name]


class _Loader:
    """Reads each source once per report (summary reads every figure from four queries), with
    the breakdown keys asked for only (a summary or a series needs none)."""

    def __init__(self, q, dims=(), dated=True, detail=False):
        self.q, self.dims, self.dated, self.detail, self.cache = q, tuple(dims), dated, detail, {}

    def rows(self, source: str, only: Figure | None = None) -> list[dict]:
        if source not in self.cache:
            figs = [only] if only is not None else [f for f in FIGURES.values() if f.source == source]
            wanted = sorted({v for f in figs for v in (*f.values, *(f.detail if self.detail else ()))})
            self.cache[source] = sources.rows(self.q, source, wanted, self.dims, dated=self.dated)
        return self.cache[source]


class _ReportData:
    """The period's rows and counts, read once per ReportQuery and shared by the summary, the
    series and the query's breakdown of one request (the page asks for all three: before this
    each re-read the rows the summary had read). Rows carry their date, every figure's values and
    the query's breakdown key only (another key would cost a join to the tickets for every row);
    a breakdown by another key and the drill-downs read their own."""

    def __init__(self, q):
        dims = [q.by] if q.by and q.by != "tag" else []
        self.q, self.dims, self.loader, self.memo = q, dims, _Loader(q, dims), {}

    def items(self, fig: Figure, every_figure: bool = False) -> list[tuple[dict, dict]]:
        """The figure's units, from the shared rows once a summary (`every_figure`) read them;
        a lone series or breakdown reads its own figure's columns only (the API asks for one)."""
        if ("items", fig.name) not in self.memo:  # the page's chart: its summary, series and breakdown
            shared = every_figure or fig.source in self.loader.cache
            rows = self.loader.rows(fig.source) if shared else _Loader(self.q, self.dims).rows(fig.source, fig)
            self.memo["items", fig.name] = _items(fig, rows)
        return self.memo["items", fig.name]

    def counts(self, fig: Figure) -> list[int]:
        """The count figure per bucket of the period (the summary sums them); from the backlog's
        GROUP BYs when it ran over the same bucket ends (the page draws both)."""
        if ("counts", fig.name) not in self.memo:
            starts = self.q.period.buckets()
            grouped = self.memo.get("backlog_counts", {})
            if grouped.get("moments") == [*starts[1:], self.q.period.end] and fig.source in grouped:
                per_bucket: dict = {}
                for key, n in grouped[fig.source].items():  # created: (bucket, unsolved now?) keys
                    b = key[0] if type(key) is tuple else key
                    per_bucket[b] = per_bucket.get(b, 0) + n
                self.memo["counts", fig.name] = [per_bucket.get(b, 0) for b in range(len(starts))]
            else:
                self.memo["counts", fig.name] = _counts(self.q, fig, starts)
        return self.memo["counts", fig.name]

    def backlog(self) -> list[int]:
        """The backlog at each bucket's end (the last is the period's end: the summary's)."""
        if "backlog" not in self.memo:
            ends = [*self.q.period.buckets()[1:], self.q.period.end]
            self.memo["backlog"] = _backlog_at(self.q, [min(e, self.q.period.end) for e in ends],
                                               kept=self.memo.setdefault("backlog_counts", {}))
        return self.memo["backlog"]


def _data(q) -> _ReportData:
    """The query's shared data, kept on the (frozen) query: one request, one read."""
    data = q.__dict__.get("_report_data")
    if data is None:
        data = _ReportData(q)
        object.__setattr__(q, "_report_data", data)
    return data


def _items(fig: Figure, rows: list[dict]) -> list[tuple[dict, dict]]:
    """(row, one per-ticket value) pairs: the units a figure aggregates."""
    out, extract = [], fig.extract
    append = out.append
    for row in rows:
        made = extract(row)
        if made is None:
            continue
        if type(made) is list:
            out.extend((row, one) for one in made)
        else:
            append((row, made))
    return out


def aggregate(fig: Figure, items: list[tuple[dict, dict]]) -> dict:
    values = [v for _row, v in items]
    if fig.kind == "count":
        return {"value": len(values)}
    if fig.kind == "duration":
        calendar = stats.durations([v["calendar_seconds"] for v in values])
        business = stats.durations([v["business_seconds"] for v in values])
        return {"value": calendar["median"], "median": calendar["median"], "p90": calendar["p90"],
                "business_median": business["median"], "business_p90": business["p90"], "count": calendar["count"]}
    if fig.kind == "rate":
        return stats.rate(sum(1 for v in values if v["counted"]), len(values))
    if fig.kind == "mean":
        total = sum(v["messages"] for v in values)
        return {"value": total / len(values) if values else None, "total": total, "count": len(values)}
    if fig.kind == "sla":
        by_target = {kind: stats.rate(sum(1 for v in values if v["target"] == kind and v["state"] == "achieved"),
                                      sum(1 for v in values if v["target"] == kind)) for kind in SLA_KINDS}
        return {**stats.rate(sum(1 for v in values if v["state"] == "achieved"), len(values)), "by_target": by_target}
    raise ValueError(fig.kind)


# -- the interface ------------------------------------------------------------------------------

def _collector_paused(fn):
    """A report builds tens of thousands of short-lived dicts and tuples over rows it keeps; the
    cyclic collector walked them again and again (a third of a summary's CPU on the 100k bench)
    while finding nothing to free: none of them is in a cycle. Paused for the call, as it was."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()
    return wrapper


@_collector_paused
def summary(q) -> dict:
    data = _data(q)
    out = {}
    for name, fig in FIGURES.items():
        # Counts and backlog from the series when the request drew them (the page), else one
        # bucket: the backlog at the end alone is one count, its series three GROUP BYs.
        if fig.kind == "backlog":
            out[name] = {"value": data.memo["backlog"][-1] if "backlog" in data.memo
                         else _backlog_at(q, [q.period.end])[0]}
        elif fig.kind == "count":
            out[name] = {"value": sum(data.memo["counts", name] if ("counts", name) in data.memo
                                      else _counts(q, fig, [q.period.start]))}
        elif fig.counted is not None and fig.source not in data.loader.cache and ("items", name) not in data.memo:
            out[name] = stats.rate(*sources.rate_counts(q, fig.source, fig.counted))
        else:
            out[name] = aggregate(fig, data.items(fig, every_figure=True))
    return {"period": period_info(q), "figures": out}


@_collector_paused
def series(q, name: str) -> dict:
    fig = figure(name)
    starts = q.period.buckets()
    ends = [*starts[1:], q.period.end]
    data = _data(q)
    if fig.kind == "backlog":
        points = [{"value": v} for v in data.backlog()]
    elif fig.kind == "count":
        points = [{"value": v} for v in data.counts(fig)]
    else:
        grouped: list[list] = [[] for _ in starts]
        edges = [s.timestamp() for s in starts]
        for item in data.items(fig):
            grouped[_bucket_index(edges, item[0]["at"])].append(item)
        points = [aggregate(fig, items) for items in grouped]
    return {"figure": name, "bucket": q.period.bucket, "tz": q.period.tz.key,
            "points": [{"start": s.date().isoformat(), "end": min(e, q.period.end).isoformat(), **p}
                       for s, e, p in zip(starts, ends, points, strict=True)]}


@_collector_paused
def breakdown(q, name: str, by: str | None = None) -> dict:
    fig, by = figure(name), by or q.by
    if by is None:
        raise ValueError(_("A breakdown needs `by`."))
    if fig.kind == "backlog":
        rows = sources.backlog_tickets(q, q.period.end)
        items = [(r, {}) for r in rows]
    else:
        data = _data(q)
        # The shared rows when they carry the key (the page's breakdown); tags are read apart.
        items = (data.items(fig) if by == "tag" or by in data.dims
                 else _items(fig, _Loader(q, [by]).rows(fig.source, fig)))
    groups: dict = {}
    keys_of = _keys(by, [row for row, _v in items])
    for item in items:
        for key in keys_of(item[0]):
            groups.setdefault(key, []).append(item)
    labels = _labels(by, groups)
    agg = (lambda its: {"value": len(its)}) if fig.kind == "backlog" else (lambda its: aggregate(fig, its))
    rows_out = [{"key": key, "label": labels.get(key, str(key)), **agg(its)} for key, its in groups.items()]
    rows_out.sort(key=lambda r: (r["key"] is None, str(r["label"]).lower()))
    return {"figure": name, "by": by, "rows": rows_out,
            "total": agg(items) if fig.kind != "backlog" else {"value": len(items)}}


@_collector_paused
def drill(q, name: str, bucket=None, key=None, by: str | None = None) -> list[dict]:
    fig, by = figure(name), by or q.by
    if fig.kind == "backlog":
        moment = q.period.end
        if bucket is not None:
            start = _bucket_moment(bucket, q)
            moment = min(next_bucket(start, q.period.bucket), q.period.end)
        items = [(r, {"status": r.pop("status"), "solved_at": _iso(r.pop("solved_at"))})
                 for r in sources.backlog_tickets(q, moment)]
    else:
        items = _items(fig, _Loader(q, sources.DIMENSIONS, detail=True).rows(fig.source, fig))
        if bucket is not None:
            start = _bucket_moment(bucket, q)
            end = next_bucket(start, q.period.bucket)
            items = [i for i in items if start <= i[0]["at"] < end]
    if key is not None:
        if by is None:
            raise ValueError(_("A drill-down by key needs `by`."))
        keys_of = _keys(by, [row for row, _v in items])
        wanted = _coerce_key(by, key)
        items = [i for i in items if wanted in keys_of(i[0])]
    return _drill_rows(items)


def period_info(q) -> dict:
    return {"start": q.period.start.isoformat(), "end": q.period.end.isoformat(), "bucket": q.period.bucket,
            "tz": q.period.tz.key, "filters": {k: list(v) for k, v in q.filters.items()}, "by": q.by}


# -- helpers ------------------------------------------------------------------------------------

def _backlog_at(q, moments: list[datetime], kept: dict | None = None) -> list[int]:
    """The unsolved tickets at each moment (the bucket ends, in order):
      backlog(e) = unsolved now - unsolved now and created after e
                   + solved after e - solved now and created after e
    (a ticket is created before it is solved), from three GROUP BY counts over the tickets
    created or solved since the period start: nothing older is read, no row comes back."""
    now = sources.unsolved_now(q)
    if all(moment > timezone.now() for moment in moments):
        return [now] * len(moments)  # the period ends later today: the backlog is today's
    created = sources.bucket_counts(q, "created", moments, until_end=False, by_active=True)
    solved = sources.bucket_counts(q, "solved", moments, until_end=False)
    if kept is not None:  # the created and solved series are these counts' first len(moments) buckets
        kept.update(moments=moments, created=created, solved=solved)

    def after(counts, b, *key):  # rows in buckets past b (dated at or after moments[b])
        return sum(n for k, n in counts.items() if (k[0] if key else k) > b and (not key or k[1] == key[0]))

    return [now - after(created, b, True) + after(solved, b) - after(created, b, False) for b in range(len(moments))]


def _counts(q, fig: Figure, starts: list[datetime]) -> list[int]:
    """A count figure per bucket, counted by the database."""
    counts = sources.bucket_counts(q, fig.source, [*starts[1:], q.period.end])
    return [counts.get(b, 0) for b in range(len(starts))]


def _bucket_index(edges: list[float], at: datetime) -> int:
    # Epoch seconds: comparing aware datetimes of different zones asks the zone for every pair.
    return max(0, bisect.bisect_right(edges, at.timestamp()) - 1)


def _bucket_moment(bucket, q) -> datetime:
    if isinstance(bucket, datetime):
        bucket = bucket.astimezone(q.period.tz).date()
    if isinstance(bucket, str):
        try:
            bucket = date.fromisoformat(bucket[:10])
        except ValueError as exc:
            raise ValueError(_("bucket must be a date (YYYY-MM-DD).")) from exc
    return bucket_start(datetime.combine(bucket, time(), tzinfo=q.period.tz), q.period.bucket)


def _keys(by: str, rows: list[dict]):
    """row -> the breakdown keys it belongs to (a ticket with two tags is in both)."""
    if by == "tag":
        tags = sources.tags_of({r["ticket"] for r in rows})
        return lambda row: tags.get(row["ticket"]) or [None]
    return lambda row: [row[by] or None] if by in ("channel", "inbox") else [row[by]]


def _coerce_key(by: str, key):
    if key in (None, "", "none"):
        return None
    if by in ("team", "agent", "tag", "priority"):
        try:
            return int(key)
        except (TypeError, ValueError) as exc:
            raise ValueError(_("key must be a number for %(by)s.") % {"by": by}) from exc
    return str(key)


def _labels(by: str, groups) -> dict:
    keys = [k for k in groups if k is not None]
    none = {None: _("(none)")}
    if by == "team":
        return {**none, **dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))}
    if by == "tag":
        return {**none, **dict(Tag.objects.filter(pk__in=keys).values_list("pk", "name"))}
    if by == "agent":
        return {**none, **{u.pk: display_name(u) for u in get_user_model().objects.filter(pk__in=keys)}}
    if by == "priority":
        return {**none, **{p.value: str(p.label) for p in Ticket.Priority}}
    return {**none, **{k: k for k in keys}}


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _drill_rows(items: list[tuple[dict, dict]]) -> list[dict]:
    ids = {row["ticket"] for row, _v in items}
    subjects = {}
    id_list = list(ids)
    for i in range(0, len(id_list), 5000):
        subjects.update(Ticket.objects.filter(pk__in=id_list[i:i + 5000]).values_list("pk", "subject"))
    teams = _labels("team", {row["team"]: 1 for row, _v in items})
    agents = _labels("agent", {row["agent"]: 1 for row, _v in items})
    return [{"ticket": row["ticket"], "subject": subjects.get(row["ticket"], ""), "at": _iso(row["at"]),
             "channel": row["channel"], "inbox": row["inbox"], "team": row["team"], "team_name": teams.get(row["team"], str(row["team"])) if row["team"] is not None else "",
             "priority": row["priority"], "agent": row["agent"], "agent_name": agents.get(row["agent"], str(row["agent"])) if row["agent"] is not None else "", **values}
            for row, values in items]
