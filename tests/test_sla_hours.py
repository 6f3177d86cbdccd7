"""Business-time arithmetic against a brute-force, minute-by-minute reference (Hypothesis):
random weekly intervals (some crossing midnight), holidays (single, ranges, yearly) and ranges
around the daylight-saving changes of three zones, one of which shifts by 30 minutes."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from service_levels.hours import BusinessHours, Holiday, NeverOpen

ZONES = ["Europe/London", "America/New_York", "Australia/Lord_Howe"]
# The 2026 transitions of those zones (UTC), so the generated ranges straddle them often.
TRANSITIONS = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
               datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC),
               datetime(2026, 4, 4, 15, tzinfo=UTC), datetime(2026, 10, 3, 16, tzinfo=UTC)]


def reference_open(intervals, holidays, zone, at: datetime) -> bool:
    """Deliberately naive: the local wall clock of this minute, checked against the rules."""
    local = at.astimezone(ZoneInfo(zone))
    if any(h.covers(local.date()) for h in holidays):
        return False
    minute, weekday = local.hour * 60 + local.minute, local.weekday()
    for day, start, end in intervals:
        if end > start and weekday == day and start <= minute < end:
            return True
        if end <= start and ((weekday == day and minute >= start) or (weekday == (day + 1) % 7 and minute < end)):
            return True
    return False


minutes = st.integers(0, 1439)
interval = st.tuples(st.integers(0, 6), minutes, st.integers(1, 1440)).filter(lambda i: i[1] != i[2])
holiday = st.builds(
    lambda start, days, yearly: Holiday(start, start + timedelta(days=days), yearly),
    st.dates(date(2025, 12, 20), date(2026, 12, 31)), st.integers(0, 3), st.booleans())


@st.composite
def ranges(draw):
    anchor = draw(st.sampled_from(TRANSITIONS))
    start = anchor + timedelta(minutes=draw(st.integers(-3 * 1440, 1440)))
    return start, draw(st.integers(0, 4 * 1440))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ZONES), st.lists(interval, min_size=1, max_size=4), st.lists(holiday, max_size=3), ranges())
def test_business_seconds_match_minute_by_minute(zone, intervals, holidays, span):
    start, length = span
    hours = BusinessHours(zone, intervals, holidays)
    open_minutes = [reference_open(intervals, holidays, zone, start + timedelta(minutes=m)) for m in range(length)]
    assert hours.seconds_between(start, start + timedelta(minutes=length)) == 60 * sum(open_minutes)
    for m in range(0, length, 97):
        assert hours.is_open(start + timedelta(minutes=m)) == open_minutes[m]


def weekly_minutes(intervals) -> int:
    return sum((end - start) % 1440 or 1440 for _day, start, end in intervals)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.sampled_from(ZONES), st.lists(interval, min_size=1, max_size=4), st.lists(holiday, max_size=3), ranges(),
       st.integers(1, 3000))
def test_add_lands_on_the_minute_the_reference_counts_to(zone, intervals, holidays, span, target_minutes):
    start, _length = span
    assume(weekly_minutes(intervals) * 4 >= target_minutes)  # the reference walks minute by minute
    hours = BusinessHours(zone, intervals, holidays)
    due = hours.add(start, target_minutes * 60)
    # Walk the reference forward: `due` is the end of the target_minutes-th open minute.
    counted, t = 0, start
    while counted < target_minutes:
        counted += reference_open(intervals, holidays, zone, t)
        t += timedelta(minutes=1)
    assert due == t
    assert hours.seconds_between(start, due) == target_minutes * 60


def test_london_spring_forward_shortens_a_night_shift():
    # Sat 22:00 - Sun 06:00 on the night the clocks jump from 01:00 to 02:00: 7 hours, not 8.
    hours = BusinessHours("Europe/London", [(5, 22 * 60, 6 * 60)])
    night = datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 29, 12, tzinfo=UTC)
    assert hours.seconds_between(*night) == 7 * 3600


def test_lord_howe_half_hour_shift():
    # Lord Howe goes from +10:30 to +11 at 02:00 local on 2026-10-04: 02:00-02:30 never happens.
    hours = BusinessHours("Australia/Lord_Howe", [(6, 0, 1440)])  # all Sunday
    sunday = datetime(2026, 10, 3, 12, tzinfo=UTC), datetime(2026, 10, 5, 12, tzinfo=UTC)
    assert hours.seconds_between(*sunday) == 23.5 * 3600


def test_yearly_holiday_over_new_year_closes_both_years():
    hours = BusinessHours("America/New_York", [(d, 0, 1440) for d in range(7)],
                          [Holiday(date(2020, 12, 31), date(2021, 1, 1), yearly=True)])
    assert not hours.is_open(datetime(2027, 1, 1, 17, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 12, 31, 17, tzinfo=UTC))
    assert hours.is_open(datetime(2027, 1, 2, 17, tzinfo=UTC))


def test_a_schedule_that_never_opens_says_so():
    hours = BusinessHours("Europe/London", [(0, 540, 1020)], [Holiday(date(2020, 1, 1), date(2020, 12, 31), yearly=True)])
    with pytest.raises(NeverOpen, match="not open that long within the next two years"):
        hours.add(datetime(2026, 1, 1, tzinfo=UTC), 60)
