"""Business-time arithmetic: is a schedule open at T, how many business seconds lie between A
and B, and when will N business seconds have passed after A.

Pure Python, no database: `Schedule.hours()` builds a BusinessHours from the stored rows, and
routing (or anyone) can use either:

    from service_levels.hours import BusinessHours
    hours = schedule.hours()            # or BusinessHours("Europe/London", [(0, 540, 1020)], [])
    hours.is_open(now); hours.seconds_between(a, b); hours.add(a, 3600)

The one rule: a moment is open when the *wall-clock* time it shows in the schedule's time zone
falls inside a weekly interval, and that local date is not a holiday. Daylight-saving changes
therefore lengthen or shorten the affected interval (a 09:00-17:00 day is still 09:00-17:00 on
the clock), an hour that does not exist is never open and an hour that happens twice is open
twice. An interval whose end is not after its start crosses midnight: Fri 22:00-02:00 is Friday
22:00-24:00 plus Saturday 00:00-02:00 (closed if that Saturday is a holiday).

Implementation: the range is cut into pieces of constant UTC offset (transitions found by
bisection between samples taken every 12 hours); inside a piece local time is UTC plus a
constant, so each day's intervals map back to UTC exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DAY = 86400
_SAMPLE = 12 * 3600  # no zone changes its offset twice within 12 hours
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# How far add() looks for enough open time before deciding the schedule never opens.
HORIZON_DAYS = 2 * 366


class NeverOpen(ValueError):
    """The schedule has not enough open time within the horizon (no intervals, all holidays,
    or a few minutes a week against a target of days)."""


@dataclass(frozen=True)
class Holiday:
    start: date
    end: date  # inclusive; == start for a single day
    yearly: bool = False
    name: str = ""

    def covers(self, day: date) -> bool:
        if not self.yearly:
            return self.start <= day <= self.end
        md, first, last = (day.month, day.day), (self.start.month, self.start.day), (self.end.month, self.end.day)
        if first <= last:
            return first <= md <= last
        return md >= first or md <= last  # a yearly range over New Year (Dec 31 - Jan 2)


def split_interval(weekday: int, start: int, end: int) -> list[tuple[int, int, int]]:
    """One weekly interval (weekday 0 = Monday, minutes from midnight; end 1440 = 24:00) as
    same-day pieces: crossing midnight gives the evening and the next morning."""
    if end > start:
        return [(weekday, start, end)]
    pieces = [(weekday, start, 1440)]
    if end > 0:
        pieces.append(((weekday + 1) % 7, 0, end))
    return pieces


class BusinessHours:
    """A schedule's open hours: IANA zone, weekly intervals (weekday, start minute, end minute)
    and holidays."""

    def __init__(self, timezone: str, intervals: Iterable[tuple[int, int, int]], holidays: Iterable[Holiday] = ()):
        self.zone = ZoneInfo(timezone)
        self.intervals = tuple(tuple(i) for i in intervals)
        self.holidays = tuple(holidays)
        by_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for weekday, start, end in self.intervals:
            for day, s, e in split_interval(weekday, start, end):
                by_day[day].append((s * 60, e * 60))
        self._by_day = [sorted(spans) for spans in by_day]
        self._days: dict[int, list[tuple[float, float]]] = {}

    # -- the public questions ------------------------------------------------------------
    def is_open(self, at: datetime) -> bool:
        ts = at.timestamp()
        local = ts + self._offset(ts)
        day = math.floor(local / DAY)
        if self._holiday(day):
            return False
        second = local - day * DAY
        return any(s <= second < e for s, e in self._by_day[(day + 3) % 7])

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Open seconds in [start, end); 0 when end is not after start."""
        return sum(b - a for a, b in self._spans(start.timestamp(), end.timestamp()))

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment at which `seconds` of open time have passed since `start`: walks the
        (cached) open spans day by day from the local day before `start`."""
        if seconds <= 0:
            return start
        remaining, t = float(seconds), start.timestamp()
        day = math.floor((t + self._offset(t)) / DAY) - 1
        for _ in range(HORIZON_DAYS + 2):
            for a, b in self._day(day):
                lo = max(a, t)
                if b > lo:
                    if remaining <= b - lo:
                        return _utc(lo + remaining)
                    remaining -= b - lo
                    t = b  # a night shift's two days touch: never count a moment twice
            day += 1
        raise NeverOpen("the schedule is not open that long within the next two years")

    def next_open(self, at: datetime) -> datetime | None:
        """`at` when open then, else the next moment the schedule opens (None: not within
        two weeks, e.g. a long holiday): for "we are back at 09:00" replies."""
        if self.is_open(at):
            return at
        spans = self._spans(at.timestamp(), at.timestamp() + 14 * DAY)
        return _utc(spans[0][0]) if spans else None

    def open_spans(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return [(_utc(a), _utc(b)) for a, b in self._spans(start.timestamp(), end.timestamp())]

    # -- machinery -----------------------------------------------------------------------
    def _offset(self, ts: float) -> int:
        return int(datetime.fromtimestamp(ts, self.zone).utcoffset().total_seconds())

    def _holiday(self, day_number: int) -> bool:
        if not self.holidays:
            return False
        day = date.fromordinal(day_number + _EPOCH_ORDINAL)
        return any(h.covers(day) for h in self.holidays)

    def _pieces(self, a: float, b: float):
        """(start, end, offset) pieces of constant UTC offset covering [a, b)."""
        start, offset = a, self._offset(a)
        sample = a
        while sample < b:
            nxt = min(sample + _SAMPLE, b)
            later = self._offset(nxt) if nxt < b else self._offset(b - 1e-6)
            if later != offset:
                lo, hi = math.floor(sample), math.ceil(nxt)  # offset(lo) == offset, offset(hi) == later
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self._offset(mid) == offset:
                        lo = mid
                    else:
                        hi = mid
                yield start, hi, offset
                start, offset = hi, later
            sample = nxt
        if start < b:
            yield start, b, offset

    def _spans(self, a: float, b: float) -> list[tuple[float, float]]:
        """Open spans within [a, b), adjacent ones merged (a night shift is one span)."""
        spans: list[tuple[float, float]] = []
        if b <= a:
            return spans
        first = math.floor((a + self._offset(a)) / DAY) - 1
        last = math.floor((b + self._offset(b)) / DAY) + 1
        for day in range(first, last + 1):
            for s, e in self._day(day):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    if spans and spans[-1][1] >= lo:
                        spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
                    else:
                        spans.append((lo, hi))
        return spans

    def _day(self, day: int) -> list[tuple[float, float]]:
        """The open spans (UTC timestamps) of one local calendar day, cached: the same days come
        up again and again (every ticket opened this week asks about this week)."""
        spans = self._days.get(day)
        if spans is None:
            spans = []
            if not self._holiday(day) and self._by_day[(day + 3) % 7]:  # 1970-01-01 was a Thursday (3)
                base = day * DAY
                # Offsets lie within -12 h..+14 h: this UTC range holds every moment of that local day.
                for p0, p1, off in self._pieces(base - 15 * 3600, base + DAY + 13 * 3600):
                    l0, l1 = max(p0 + off, base), min(p1 + off, base + DAY)
                    for s, e in self._by_day[(day + 3) % 7]:
                        lo, hi = max(base + s, l0), min(base + e, l1)
                        if hi > lo:
                            spans.append((lo - off, hi - off))
                spans.sort()
            if len(self._days) > 20000:
                self._days.clear()
            self._days[day] = spans
        return spans


class CalendarHours:
    """Round-the-clock time with the same interface, for targets counted in calendar hours."""

    def is_open(self, at: datetime) -> bool:
        return True

    def seconds_between(self, start: datetime, end: datetime) -> float:
        return max(0.0, (end - start).total_seconds())

    def add(self, start: datetime, seconds: float) -> datetime:
        return start + timedelta(seconds=max(0.0, seconds))


CALENDAR = CalendarHours()


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# -- the questions other apps ask (routing's business-hours conditions, out-of-hours replies) --

def schedule_for(ticket_or_inbox, team_id: int | None = None) -> BusinessHours | None:
    """The hours that apply to a ticket (anything with `.inbox` and `.team_id`) or to an inbox
    key ("email:support@x.test", with `team_id` the team it routes to): the inbox's schedule,
    else the team's, else the default one; None when no schedule applies (or it is broken,
    which is logged). Reads the cached configuration: one indexed read of its version."""
    from service_levels import config

    if isinstance(ticket_or_inbox, str) or ticket_or_inbox is None:
        inbox = ticket_or_inbox or ""
    else:
        inbox, team_id = ticket_or_inbox.inbox or "", getattr(ticket_or_inbox, "team_id", team_id)
    current = config.current()
    schedule_id = current.schedule_id_for(inbox, team_id)
    if schedule_id is None:
        return None
    try:
        return current.schedule_hours(schedule_id)
    except config.PolicyError as error:
        config.log.warning("no business hours for %s: %s", inbox or f"team {team_id}", error)
        return None


def is_open(hours: BusinessHours | None, at: datetime | None = None) -> bool:
    """Whether `hours` (from schedule_for) are open at `at` (default: now). No schedule means
    no closing time: open."""
    if hours is None:
        return True
    if at is None:
        at = datetime.now(UTC)
    return hours.is_open(at)
