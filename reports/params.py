"""Request parameters -> a ReportQuery: the period (a preset or a custom range, bucketed by
day/week/month in the team's time zone), the filters and the breakdown. Every mistake is a
ValidationError naming the parameter (the API answers it as 422, the page shows it).

Parameters (query string, all optional):
  period   today | 7d | 30d (default) | custom          (7d/30d end today, inclusive)
  start, end   YYYY-MM-DD, inclusive, with period=custom (at most 366 days)
  bucket   day | week | month (default: day up to 31 days, else week)
  tz       an IANA zone (default: the team's schedule zone, else the default schedule's, else TIME_ZONE)
  channel, inbox, team, agent, tag, priority   filters (team/agent/tag: ids; priority: 0-3; repeatable)
  by       channel | inbox | team | agent | tag | priority   (a breakdown)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

PRESETS = ("today", "7d", "30d", "custom")
BUCKETS = ("day", "week", "month")
DIMENSIONS = ("channel", "inbox", "team", "agent", "tag", "priority")
INT_DIMENSIONS = {"team", "agent", "tag", "priority"}
MAX_DAYS = 366
MIN_YEAR, MAX_YEAR = 1970, 9000  # beyond these, time-zone arithmetic overflows


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive
    bucket: str
    tz: ZoneInfo

    def buckets(self) -> list[datetime]:
        """The start of every bucket in the period, local time (aware, in `tz`)."""
        first = bucket_start(self.start.astimezone(self.tz), self.bucket)
        out, at = [], first
        while at < self.end:
            out.append(at)
            at = next_bucket(at, self.bucket)
        return out


@dataclass(frozen=True)
class ReportQuery:
    period: Period
    filters: dict = field(default_factory=dict)  # dimension -> tuple of values
    by: str | None = None
    user: object = None  # whose visibility applies (policy.visible_tickets); None: everything

    def with_filter(self, dimension: str, value) -> ReportQuery:
        return ReportQuery(self.period, {**self.filters, dimension: (value,)}, self.by, self.user)


def bucket_start(local: datetime, bucket: str) -> datetime:
    day = local.date()
    if bucket == "week":
        day -= timedelta(days=day.weekday())  # ISO weeks start on Monday
    elif bucket == "month":
        day = day.replace(day=1)
    return datetime.combine(day, time(), tzinfo=local.tzinfo)


def next_bucket(start: datetime, bucket: str) -> datetime:
    day = start.date()
    if bucket == "day":
        day += timedelta(days=1)
    elif bucket == "week":
        day += timedelta(days=7)
    else:
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(day, time(), tzinfo=start.tzinfo)


def team_zone(team_ids=()) -> str:
    """The team's time zone: its schedule's (service levels), else the default schedule's,
    else TIME_ZONE."""
    from service_levels.models import Schedule

    schedule = None
    if len(team_ids) == 1:
        schedule = Schedule.objects.filter(teams__id=team_ids[0]).order_by("pk").first()
    schedule = schedule or Schedule.objects.filter(is_default=True).first()
    return schedule.timezone if schedule else settings.TIME_ZONE


def parse(params, user=None, *, now: datetime | None = None) -> ReportQuery:
    """`params`: a QueryDict (or a plain dict of strings/lists)."""
    errors: dict[str, str] = {}
    get = (lambda k: params.getlist(k)) if hasattr(params, "getlist") else (
        lambda k: [str(v) for v in (params.get(k) if isinstance(params.get(k), list | tuple) else
                                    ([params[k]] if params.get(k) not in (None, "") else []))])

    def one(key, default=None):
        values = [v for v in get(key) if v != ""]
        return values[-1] if values else default

    filters = {}
    for dim in DIMENSIONS:
        values = [v.strip() for v in get(dim) if v.strip()]
        if not values:
            continue
        if dim in INT_DIMENSIONS:
            try:
                values = [int(v) for v in values]
            except ValueError:
                errors[dim] = _("%(dimension)s must be a number (an id).") % {"dimension": dim}
                continue
            if any(not 0 <= v < 2**63 for v in values):
                errors[dim] = _("%(dimension)s must be a number (an id).") % {"dimension": dim}
                continue
            if dim == "priority" and any(v not in range(4) for v in values):
                errors[dim] = _("priority must be 0 (low) to 3 (urgent).")
                continue
        filters[dim] = tuple(values)

    tz_name = one("tz") or team_zone(filters.get("team", ()))
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        errors["tz"] = _("Unknown time zone %(tz)s.") % {"tz": tz_name}
        tz = ZoneInfo("UTC")

    preset = one("period", "30d")
    today = timezone.localtime(now or timezone.now(), tz).date()
    first = last = today
    if preset not in PRESETS:
        errors["period"] = _("period must be one of %(choices)s.") % {"choices": ", ".join(PRESETS)}
    elif preset == "7d":
        first = today - timedelta(days=6)
    elif preset == "30d":
        first = today - timedelta(days=29)
    elif preset == "custom":
        try:
            first, last = date.fromisoformat(one("start", "")), date.fromisoformat(one("end", ""))
        except ValueError:
            errors["start"] = _("A custom period needs start and end dates (YYYY-MM-DD).")
        else:
            if not (MIN_YEAR <= first.year <= MAX_YEAR and MIN_YEAR <= last.year <= MAX_YEAR):
                errors["start"] = _("Dates must be between %(first)s and %(last)s.") % {"first": MIN_YEAR,
                                                                                       "last": MAX_YEAR}
            elif last < first:
                errors["end"] = _("The end date is before the start date.")
            elif (last - first).days + 1 > MAX_DAYS:
                errors["end"] = _("A period is at most %(days)s days.") % {"days": MAX_DAYS}

    bucket = one("bucket") or ("day" if (last - first).days < 31 else "week")
    if bucket not in BUCKETS:
        errors["bucket"] = _("bucket must be day, week or month.")
    by = one("by")
    if by is not None and by not in DIMENSIONS:
        errors["by"] = _("by must be one of %(choices)s.") % {"choices": ", ".join(DIMENSIONS)}
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    start = datetime.combine(first, time(), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)
    return ReportQuery(Period(start, end, bucket, tz), filters, by, user)
