"""Which policy and which hours apply to a ticket. The schedules and policies are read once per
process and re-read only when ConfigVersion moved (every settings change bumps it), so the
ingest path pays one indexed read, not a dozen queries, for them."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field

from django.db import connection

from service_levels.clock import FIRST_REPLY, NEXT_REPLY, RESOLUTION, Plan, Target
from service_levels.models import ConfigVersion, Policy, Schedule

log = logging.getLogger(__name__)


class PolicyError(Exception):
    """The matching policy cannot be applied (a schedule that is broken or missing)."""


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    channels: frozenset
    priorities: frozenset
    team_ids: frozenset
    tag_ids: frozenset
    organisations: frozenset  # lower-case
    targets: dict
    warn_percent: int
    schedule_id: int | None

    def matches(self, channel, priority, team_id, tag_ids, organisation) -> bool:
        return ((not self.channels or channel in self.channels)
                and (not self.priorities or priority in self.priorities)
                and (not self.team_ids or team_id in self.team_ids)
                and (not self.tag_ids or bool(self.tag_ids & set(tag_ids)))
                and (not self.organisations or (organisation or "").strip().lower() in self.organisations))


@dataclass
class Config:
    version: int
    rules: list[Rule] = field(default_factory=list)
    hours: dict = field(default_factory=dict)  # schedule id -> BusinessHours, or the error building it
    default_schedule: int | None = None
    team_schedule: dict = field(default_factory=dict)
    inbox_schedule: dict = field(default_factory=dict)  # Ticket.inbox key -> schedule id
    uses_tags: bool = False  # whether any policy looks at tags / organisations (else skip the reads)
    uses_organisations: bool = False

    def schedule_hours(self, schedule_id):
        hours = self.hours.get(schedule_id)
        if isinstance(hours, Exception):
            raise PolicyError(f"schedule {schedule_id} is broken: {hours}")
        return hours

    def schedule_id_for(self, inbox: str = "", team_id: int | None = None) -> int | None:
        """The hours a ticket works to: its inbox's schedule, else its team's, else the default."""
        return self.inbox_schedule.get(inbox or "") or self.team_schedule.get(team_id) or self.default_schedule

    def plan_for(self, *, channel, priority, team_id, tag_ids, organisation, inbox: str = "") -> Plan:
        rule = next((r for r in self.rules if r.matches(channel, priority, team_id, tag_ids, organisation)), None)
        # A policy that names a schedule keeps it (its targets were written for those hours).
        schedule_id = (rule.schedule_id if rule else None) or self.schedule_id_for(inbox, team_id)
        try:
            hours = self.schedule_hours(schedule_id) if schedule_id else None
        except PolicyError:
            if rule is None:
                hours = None  # no targets to miss: metrics are kept in calendar time only
            else:
                raise
        if rule is None:
            return Plan(hours=hours)
        if hours is None and any(t.business for t in rule.targets.values()):
            raise PolicyError(f"policy {rule.name!r} counts business hours but no schedule applies "
                              "(set a default schedule)")
        return Plan(policy_id=rule.id, policy_name=rule.name, targets=rule.targets,
                    warn_percent=rule.warn_percent, hours=hours)


_cached: Config | None = None
_lock = threading.Lock()
_VERSION = f"SELECT value FROM {ConfigVersion._meta.db_table} WHERE id = 1"  # noqa: S608


def current(version: int | None = None) -> Config:
    """The configuration; `version`: ConfigVersion's value when the caller read it already
    (service_levels.metrics reads it with the wake-up moment, in one statement)."""
    global _cached
    if version is None:
        with connection.cursor() as cursor:
            cursor.execute(_VERSION)
            row = cursor.fetchone()
        version = row[0] if row else 0
    with _lock:
        if _cached is None or _cached.version != version:
            _cached = _load(version)
        return _cached


def bump() -> None:
    """Call in the transaction of every change to schedules or policies."""
    value = secrets.randbits(62)
    if not ConfigVersion.objects.filter(id=1).update(value=value):
        ConfigVersion.objects.update_or_create(id=1, defaults={"value": value})


def _load(version: int) -> Config:
    config = Config(version=version)
    for schedule in Schedule.objects.prefetch_related("teams"):
        try:
            config.hours[schedule.pk] = schedule.hours()
        except Exception as error:  # noqa: BLE001 - a bad row must not stop ingest
            log.warning("SLA schedule %s (%s) is unusable: %s", schedule.pk, schedule.name, error)
            config.hours[schedule.pk] = error
        if schedule.is_default:
            config.default_schedule = schedule.pk
        for team in schedule.teams.all():
            config.team_schedule.setdefault(team.pk, schedule.pk)
        for key in schedule.inboxes or ():
            config.inbox_schedule.setdefault(key, schedule.pk)
    for policy in Policy.objects.filter(is_active=True).prefetch_related("teams", "tags"):
        targets = {}
        for kind in (FIRST_REPLY, NEXT_REPLY, RESOLUTION):
            minutes = getattr(policy, f"{kind}_minutes")
            if minutes:
                targets[kind] = Target(kind, minutes, getattr(policy, f"{kind}_business"))
        config.rules.append(Rule(
            id=policy.pk, name=policy.name, channels=frozenset(policy.channels or ()),
            priorities=frozenset(int(p) for p in policy.priorities or ()),
            team_ids=frozenset(t.pk for t in policy.teams.all()), tag_ids=frozenset(t.pk for t in policy.tags.all()),
            organisations=frozenset(o.strip().lower() for o in policy.organisations or ()),
            targets=targets, warn_percent=policy.warn_percent or 80, schedule_id=policy.schedule_id))
    config.uses_tags = any(rule.tag_ids for rule in config.rules)
    config.uses_organisations = any(rule.organisations for rule in config.rules)
    return config
