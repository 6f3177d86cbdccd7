"""What the Reports page shows, made from `reports.figures` output: tiles, and the tables the
charts are drawn from (reports.js reads each chart's numbers and links out of its table, so the
table is the one source of truth and every point links to the same drill-down as its cell).
Numbers are formatted here, once: durations as "3 h 05 min", rates as "87%"."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import quote

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

LABELS = {
    "created": gettext_lazy("Tickets created"),
    "solved": gettext_lazy("Tickets solved"),
    "backlog": gettext_lazy("Backlog"),
    "first_reply_time": gettext_lazy("First reply time"),
    "next_reply_time": gettext_lazy("Next reply time"),
    "full_resolution_time": gettext_lazy("Full resolution time"),
    "sla_achievement": gettext_lazy("SLA achievement"),
    "reopen_rate": gettext_lazy("Reopen rate"),
    "one_touch_rate": gettext_lazy("One-touch resolution"),
    "csat": gettext_lazy("CSAT (good ratings)"),
    "survey_response_rate": gettext_lazy("Survey response rate"),
    "messages_per_ticket": gettext_lazy("Messages per ticket"),
}
SLA_TARGETS = {"first_reply": gettext_lazy("first reply"), "next_reply": gettext_lazy("next reply"),
               "resolution": pgettext_lazy("SLA target", "resolution")}
DRILL_KEYS = ("figure", "bucket_start", "key")  # a drill-down's own parameters, on top of the report's
BUCKETS = {"day": gettext_lazy("day"), "week": gettext_lazy("week"), "month": gettext_lazy("month")}
# Drill-down columns every row has, in this order (the figure's own values follow).
DRILL_COMMON = ("ticket", "subject", "at", "channel", "inbox", "team_name", "agent_name", "priority")
DRILL_HIDDEN = {"team", "agent"}  # ids: their names are shown
DRILL_HEADINGS = {
    "ticket": gettext_lazy("Ticket"), "subject": gettext_lazy("Subject"), "at": gettext_lazy("When"),
    "channel": gettext_lazy("Channel"), "inbox": gettext_lazy("Inbox"), "team_name": gettext_lazy("Team"),
    "agent_name": gettext_lazy("Agent"), "priority": gettext_lazy("Priority"),
    "calendar_seconds": gettext_lazy("Calendar time"), "business_seconds": gettext_lazy("Business hours"),
    "counted": gettext_lazy("Counts toward the rate"), "rating": gettext_lazy("Rating"),
    "survey_status": gettext_lazy("Survey"), "status": gettext_lazy("Status"), "reopens": gettext_lazy("Reopens"),
    "public_replies": gettext_lazy("Public replies"), "customer_messages": gettext_lazy("Customer messages"),
    "messages": gettext_lazy("Messages"), "target": gettext_lazy("Target"), "state": gettext_lazy("State"),
    "target_minutes": gettext_lazy("Target (minutes)"), "business": gettext_lazy("In business hours"),
    "elapsed_seconds": gettext_lazy("Elapsed"), "over_seconds": gettext_lazy("Over by"),
    "solved_at": gettext_lazy("Solved at"),
}


# -- numbers ------------------------------------------------------------------------------------

def duration(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


def percent(value) -> str:
    return "—" if value is None else f"{formats.number_format(value * 100, 0)}%"


def number(value, decimals=0) -> str:
    if value is None:
        return "—"
    return formats.number_format(value, decimals, force_grouping=True)


def headline(kind: str, agg: dict) -> str:
    value = agg.get("value")
    if kind == "duration":
        return duration(value)
    if kind in ("rate", "sla"):
        return percent(value)
    if kind == "mean":
        return number(value, 1)
    return number(value)


def detail(kind: str, agg: dict) -> str:
    """The small print under a tile's number: what it is made of."""
    if kind == "duration":
        return _("p90 %(p90)s · business hours: median %(bm)s, p90 %(bp)s · %(n)s tickets") % {
            "p90": duration(agg.get("p90")), "bm": duration(agg.get("business_median")),
            "bp": duration(agg.get("business_p90")), "n": number(agg.get("count"))}
    if kind == "rate":
        return _("%(a)s of %(b)s") % {"a": number(agg.get("numerator")), "b": number(agg.get("denominator"))}
    if kind == "sla":
        parts = [f"{SLA_TARGETS[k]} {percent(r.get('value'))}" for k, r in (agg.get("by_target") or {}).items()
                 if r.get("denominator")]
        return " · ".join([_("%(a)s of %(b)s targets met") % {
            "a": number(agg.get("numerator")), "b": number(agg.get("denominator"))}, *parts])
    if kind == "mean":
        return _("%(total)s messages on %(n)s tickets") % {"total": number(agg.get("total")), "n": number(agg.get("count"))}
    return ""


# -- tables -------------------------------------------------------------------------------------

def columns(kind: str) -> list[dict]:
    """A figure's table columns: key in the aggregate, heading, how to show it, how to chart it
    (`series`: "bar"/"line", `scale`: the chart's unit: hours for durations, % for rates)."""
    if kind == "duration":
        return [
            {"key": "median", "label": _("Median"), "series": "line", "unit": "h"},
            {"key": "p90", "label": _("90th percentile"), "series": "line", "unit": "h"},
            {"key": "business_median", "label": _("Median, business hours"), "unit": "h"},
            {"key": "business_p90", "label": _("p90, business hours"), "unit": "h"},
            {"key": "count", "label": _("Tickets"), "unit": ""},
        ]
    if kind in ("rate", "sla"):
        cols = [{"key": "value", "label": _("Rate"), "series": "bar", "unit": "%"},
                {"key": "numerator", "label": _("Counted"), "unit": ""},
                {"key": "denominator", "label": _("Out of"), "unit": ""}]
        if kind == "sla":
            cols += [{"key": f"sla:{k}", "label": _("%(target)s met") % {"target": label}, "unit": "%"}
                     for k, label in SLA_TARGETS.items()]
        return cols
    if kind == "mean":
        return [{"key": "value", "label": _("Average"), "series": "bar", "unit": ""},
                {"key": "count", "label": _("Tickets"), "unit": ""}]
    return [{"key": "value", "label": _("Tickets"), "series": "bar", "unit": ""}]


def cell(column: dict, agg: dict, href: str | None) -> dict:
    """{"text", "value" (the charted number), "href"}."""
    key, unit = column["key"], column["unit"]
    raw = (agg.get("by_target") or {}).get(key[4:], {}).get("value") if key.startswith("sla:") else agg.get(key)
    if unit == "h":
        text, value = duration(raw), None if raw is None else round(raw / 3600, 3)
    elif unit == "%":
        text, value = percent(raw), None if raw is None else round(raw * 100, 2)
    else:
        text, value = number(raw, 1 if isinstance(raw, float) else 0), raw
    return {"text": text, "value": "" if value is None else value, "href": href}


def period_text(period) -> str:
    last = (period.end - timedelta(days=1)).astimezone(period.tz)
    return _("%(start)s to %(last)s (%(tz)s), by %(bucket)s") % {
        "start": formats.date_format(period.start.astimezone(period.tz), "DATE_FORMAT"),
        "last": formats.date_format(last, "DATE_FORMAT"), "tz": period.tz.key, "bucket": BUCKETS[period.bucket]}


def bucket_label(start: str, bucket: str) -> str:
    day = date.fromisoformat(start[:10])
    if bucket == "month":
        return formats.date_format(day, "YEAR_MONTH_FORMAT")
    if bucket == "week":
        return _("week of %(day)s") % {"day": formats.date_format(day, "SHORT_DATE_FORMAT")}
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def linker(params):
    """A drill-down URL maker for this report: its parameters (minus the drill's own) are encoded
    once, not once per cell (a 30-day report has hundreds of links)."""
    query = params.copy()
    for key in DRILL_KEYS:
        query.pop(key, None)
    base = f"{reverse('reports:drill')}?{query.urlencode()}"

    def link(**extra) -> str:
        more = "&".join(f"{key}={quote(str(value))}" for key, value in extra.items() if value is not None)
        return f"{base}&{more}" if query and more else base + more

    return link


def series_table(series: dict, kind: str, link) -> dict:
    cols = columns(kind)
    rows = []
    for p in series["points"]:
        href = link(figure=series["figure"], bucket_start=p["start"])
        rows.append({"label": bucket_label(p["start"], series["bucket"]), "start": p["start"],
                     "cells": [cell(c, p, href) for c in cols]})
    return {"figure": series["figure"], "columns": cols, "rows": rows}


def volume_table(created: dict, solved: dict, backlog: dict, link) -> dict:
    """Tickets created and solved (bars) and the backlog (a line), per bucket: one chart."""
    cols = [{"key": name, "label": LABELS[name], "series": "line" if name == "backlog" else "bar", "unit": ""}
            for name in ("created", "solved", "backlog")]
    rows = []
    for c, s, b in zip(created["points"], solved["points"], backlog["points"], strict=True):
        rows.append({"label": bucket_label(c["start"], created["bucket"]), "start": c["start"], "cells": [
            cell({"key": "value", "unit": ""}, point, link(figure=name, bucket_start=c["start"]))
            for name, point in (("created", c), ("solved", s), ("backlog", b))]})
    return {"figure": "volume", "columns": cols, "rows": rows}


def breakdown_table(table: dict, kind: str, link) -> dict:
    """One row per key of the report's `by` (already in the links' parameters)."""
    cols = columns(kind)
    rows = []
    for r in table["rows"]:
        href = link(figure=table["figure"], key="none" if r["key"] is None else r["key"])
        rows.append({"label": r["label"], "key": r["key"], "cells": [cell(c, r, href) for c in cols]})
    total = {"label": _("All"), "cells": [cell(c, table["total"], link(figure=table["figure"])) for c in cols]}
    return {"figure": table["figure"], "by": table["by"], "columns": cols, "rows": rows, "total": total}


def volume_csv_table(created: dict, solved: dict, backlog: dict) -> dict:
    """The volume table as one `points` table for reports.csv."""
    return {"points": [{"start": c["start"], "end": c["end"], "created": c["value"], "solved": s["value"],
                        "backlog": b["value"]}
                       for c, s, b in zip(created["points"], solved["points"], backlog["points"], strict=True)]}


# -- drill-down ---------------------------------------------------------------------------------

def drill_columns(rows: list[dict]) -> list[str]:
    extra: list[str] = []
    for row in rows:
        extra.extend(k for k in row if k not in DRILL_COMMON and k not in DRILL_HIDDEN and k not in extra)
    return [*DRILL_COMMON, *extra]


def drill_cell(key: str, value, tz, priorities: dict) -> str:
    if value is None or value == "":
        return "—"
    if key.endswith("_seconds"):
        return duration(value)
    if key in ("at", "solved_at") and isinstance(value, str):
        try:
            return formats.date_format(datetime.fromisoformat(value).astimezone(tz), "SHORT_DATETIME_FORMAT")
        except ValueError:
            return value
    if key == "priority":
        return str(priorities.get(value, value))
    if key == "target":
        return str(SLA_TARGETS.get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def drill_rows(rows: list[dict], cols: list[str], tz, priorities: dict) -> list[dict]:
    return [{"ticket": row["ticket"], "cells": [drill_cell(k, row.get(k), tz, priorities) for k in cols[1:]]}
            for row in rows]
