"""Writes to the service-level settings (schedules, policies): validated here, one transaction
each, and every one bumps ConfigVersion so each process re-reads the configuration."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from service_levels import config
from service_levels.hours import split_interval
from service_levels.models import Policy, Schedule

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def validate_timezone(name: str) -> str:
    if name not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(zone)s” is not a known time zone (use an IANA name such as "
                                "Europe/London).") % {"zone": name}, code="timezone")
    return name


def validate_intervals(intervals) -> list[list[int]]:
    """[[weekday, start minute, end minute], ...]: in range, not empty, and not overlapping
    (overlaps are checked on the same-day pieces, so a night shift cannot overlap Monday's)."""
    pieces = []
    for weekday, start, end in intervals:
        if not (0 <= weekday <= 6 and 0 <= start < 1440 and 0 < end <= 1440):
            raise ValidationError(_("An interval is out of range."), code="range")
        if start == end:
            raise ValidationError(_("%(day)s %(start)s-%(end)s is empty.")
                                  % {"day": DAYS[weekday].title(), "start": hhmm(start), "end": hhmm(end)},
                                  code="empty")
        pieces += [(day, s, e, (weekday, start, end)) for day, s, e in split_interval(weekday, start, end)]
    pieces.sort()
    for (day, _s, end, first), (day2, start2, _e, second) in zip(pieces, pieces[1:], strict=False):
        if day == day2 and start2 < end:
            raise ValidationError(_("%(a)s overlaps %(b)s.") % {"a": describe(first), "b": describe(second)},
                                  code="overlap")
    if not pieces:
        raise ValidationError(_("A schedule needs at least one opening interval."), code="required")
    return [list(i) for i in intervals]


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def describe(interval) -> str:
    weekday, start, end = interval
    return f"{DAYS[weekday].title()} {hhmm(start)}-{hhmm(end)}"


def validate_inboxes(inboxes, schedule: Schedule | None = None) -> list[str]:
    """Inbox keys, each working to one schedule only (else which hours apply would depend on
    the order schedules were read in)."""
    keys = list(dict.fromkeys(str(key).strip() for key in inboxes or () if str(key).strip()))
    taken = {key: other.name for other in Schedule.objects.exclude(pk=getattr(schedule, "pk", None))
             for key in other.inboxes or () if key in keys}
    if taken:
        key = next(iter(taken))
        raise ValidationError(_("The inbox %(inbox)s already works to the schedule “%(schedule)s”.")
                              % {"inbox": key, "schedule": taken[key]}, code="inbox-taken")
    return keys


def save_schedule(schedule: Schedule | None = None, *, name: str, timezone: str, intervals, holidays=(),
                  is_default: bool = False, teams=(), inboxes=()) -> Schedule:
    validate_timezone(timezone)
    intervals = validate_intervals(intervals)
    inboxes = validate_inboxes(inboxes, schedule)
    with transaction.atomic():
        if is_default:
            Schedule.objects.filter(is_default=True).exclude(pk=getattr(schedule, "pk", None)).update(is_default=False)
        schedule = schedule or Schedule()
        schedule.name, schedule.timezone, schedule.is_default = name, timezone, is_default
        schedule.intervals, schedule.holidays, schedule.inboxes = intervals, list(holidays), inboxes
        schedule.save()
        schedule.teams.set(teams)
        config.bump()
    return schedule


def save_policy(policy: Policy | None = None, *, teams=(), tags=(), **values) -> Policy:
    for kind in ("first_reply", "next_reply", "resolution"):
        minutes = values.get(f"{kind}_minutes")
        if minutes is not None and int(minutes) <= 0:
            raise ValidationError(_("A target must be at least one minute (leave it empty for none)."), code="zero")
    with transaction.atomic():
        policy = policy or Policy(position=(Policy.objects.order_by("-position").values_list("position", flat=True)
                                            .first() or 0) + 1)
        for name, value in values.items():
            setattr(policy, name, value)
        policy.save()
        policy.teams.set(teams)
        policy.tags.set(tags)
        config.bump()
    return policy


def delete(obj) -> None:
    with transaction.atomic():
        obj.delete()
        config.bump()


def move_policy(policy: Policy, offset: int) -> None:
    """Swap with the neighbour above (-1) or below (+1): the order decides which applies."""
    with transaction.atomic():
        ordered = list(Policy.objects.select_for_update().order_by("position", "pk"))
        index = next(i for i, p in enumerate(ordered) if p.pk == policy.pk)
        other = index + offset
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, item in enumerate(ordered, start=1):
            if item.position != position:
                Policy.objects.filter(pk=item.pk).update(position=position)
        config.bump()
