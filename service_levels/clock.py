"""The rules of the clock, as one pure function of a ticket's timeline (see README, "Service
levels"). The live hook and `rebuild_ticket_metrics` both call `compute()` on the whole
timeline, so they cannot disagree, and a moved message, a failed reply or a merge simply
changes the timeline the next computation reads.

A timeline is the ticket's messages (time, direction, delivery status, whether an agent wrote
it) and its status changes (time, status) as the event log recorded them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from service_levels.hours import CALENDAR

ACTIVE = {"new", "open"}  # resolution time runs
DONE = {"solved", "closed"}
FIRST_REPLY, NEXT_REPLY, RESOLUTION = "first_reply", "next_reply", "resolution"


@dataclass(frozen=True)
class Entry:
    at: datetime
    direction: str  # inbound / outbound / note
    status: str = ""  # delivery status of an outbound message
    by_agent: bool = True  # False: automatic (acknowledgement, rule, bot, survey)
    author_id: int | None = None  # who wrote it (reports attribute a ticket to its first replier)

    @property
    def is_reply(self) -> bool:
        """A public agent reply that counts: written by an agent, not automatic, not failed
        (a failed delivery un-counts, as if it had never been sent)."""
        return self.direction == "outbound" and self.by_agent and self.status != "failed"


@dataclass(frozen=True)
class Target:
    kind: str
    minutes: int
    business: bool


@dataclass
class Plan:
    """What applies to one ticket: the matched policy's targets and the hours to count in."""

    policy_id: int | None = None
    policy_name: str = ""
    targets: dict[str, Target] = field(default_factory=dict)
    warn_percent: int = 80
    hours: object = None  # BusinessHours of the schedule, or None when none applies

    def hours_for(self, target: Target):
        return self.hours if target.business else CALENDAR


def compute(created_at: datetime, messages: list[Entry], status_log: list[tuple[datetime, str]], plan: Plan) -> dict:
    """TicketMetrics field values for this timeline."""
    items = sorted([(m.at, 0, m) for m in messages] + [(at, 1, status) for at, status in status_log],
                   key=lambda item: (item[0], item[1]))
    status, awaiting, replied = "new", None, False
    cycles: list[dict] = []  # reply targets: {"kind", "start", "met", "by_solve"}
    periods: list[list] = [[created_at, None]]  # resolution: [start, end) while new/open
    out = dict(solves=[], reopens=0, public_replies=0, customer_messages=0, agent_touches=0, first_reply_by_id=None)
    for at, _order, item in items:
        if isinstance(item, Entry):
            if item.direction == "inbound":
                out["customer_messages"] += 1
                if awaiting is None:
                    awaiting = {"kind": NEXT_REPLY if replied else FIRST_REPLY, "start": at, "met": None}
            elif item.is_reply:
                out["public_replies"] += 1
                out["agent_touches"] += 1
                if out["first_reply_by_id"] is None:  # the agent of the first reply, not today's assignee
                    out["first_reply_by_id"] = item.author_id
                if awaiting is not None:
                    awaiting["met"] = at
                    cycles.append(awaiting)
                    awaiting = None
                replied = True
            elif item.direction == "note" and item.by_agent:
                out["agent_touches"] += 1
            continue
        new = item
        if status in ACTIVE and new not in ACTIVE and periods[-1][1] is None:
            periods[-1][1] = at
        if status not in ACTIVE and new in ACTIVE:
            periods.append([at, None])
        if new in DONE and status not in DONE:
            out["solves"].append(at)
            if awaiting is not None:  # solving fulfils a reply target nobody answered (Zendesk)
                awaiting.update(met=at, by_solve=True)
                cycles.append(awaiting)
                awaiting = None
        if status in DONE and new not in DONE:
            out["reopens"] += 1
        status = new
    out["awaiting_since"] = awaiting["start"] if awaiting is not None else None
    if awaiting is not None:
        cycles.append(awaiting)

    first = next((c for c in cycles if c["kind"] == FIRST_REPLY and not c.get("by_solve")), None)
    hours = plan.hours
    if first is not None and first["met"] is not None:
        out["first_reply_at"] = first["met"]
        out["first_reply_seconds"] = (first["met"] - first["start"]).total_seconds()
        out["first_reply_business_seconds"] = hours.seconds_between(first["start"], first["met"]) if hours else None
    else:
        out["first_reply_at"] = None
        out["first_reply_seconds"] = out["first_reply_business_seconds"] = None
    out["next_replies"] = [[(c["met"] - c["start"]).total_seconds(),
                            hours.seconds_between(c["start"], c["met"]) if hours else None]
                           for c in cycles if c["kind"] == NEXT_REPLY and c["met"] is not None and not c.get("by_solve")]
    closed = [(a, b) for a, b in periods if b is not None]
    if status in DONE:
        out["resolution_seconds"] = sum((b - a).total_seconds() for a, b in closed)
        out["resolution_business_seconds"] = sum(hours.seconds_between(a, b) for a, b in closed) if hours else None
    else:
        out["resolution_seconds"] = out["resolution_business_seconds"] = None
    out["solved_at"] = out["solves"][-1] if out["solves"] and status in DONE else None
    # Zendesk's "full resolution time": creation to the latest solve, pending time included.
    if out["solved_at"] is not None:
        out["full_resolution_seconds"] = (out["solved_at"] - created_at).total_seconds()
        out["full_resolution_business_seconds"] = hours.seconds_between(created_at, out["solved_at"]) if hours else None
    else:
        out["full_resolution_seconds"] = out["full_resolution_business_seconds"] = None
    out["solves"] = [t.isoformat() for t in out["solves"]]

    targets = [_reply_target(c, plan) for c in cycles if c["kind"] in plan.targets]
    if RESOLUTION in plan.targets:
        targets.append(_resolution_target(created_at, periods, status, out["solved_at"], plan))
    out["targets"] = targets
    # The settled targets in one short text ("first_reply:achieved resolution:breached"):
    # reports count SLA achievement over thousands of tickets without parsing every target.
    out["sla_outcomes"] = " ".join(f"{t['kind']}:{t['state']}" for t in targets if t["state"] in ("achieved", "breached"))
    active = [t for t in targets if t["state"] == "active"]
    out["next_due_at"] = min((datetime.fromisoformat(t["due"]) for t in active), default=None)
    return out


def _reply_target(cycle: dict, plan: Plan) -> dict:
    target = plan.targets[cycle["kind"]]
    hours, seconds = plan.hours_for(target), target.minutes * 60
    start, met = cycle["start"], cycle["met"]
    due = hours.add(start, seconds)
    result = _target(target, start, due, hours.add(start, seconds * plan.warn_percent / 100))
    if met is not None:
        elapsed = hours.seconds_between(start, met)
        result.update(state="achieved" if met <= due else "breached", met_at=met.isoformat(), elapsed=elapsed,
                      over=max(0.0, elapsed - seconds), by_solve=bool(cycle.get("by_solve")))
    return result


def _resolution_target(created_at, periods, status, solved_at, plan: Plan) -> dict:
    target = plan.targets[RESOLUTION]
    hours, seconds = plan.hours_for(target), target.minutes * 60
    due = _when_reached(periods, seconds, hours)
    warn = _when_reached(periods, seconds * plan.warn_percent / 100, hours)
    result = _target(target, created_at, due, warn)
    elapsed = sum(hours.seconds_between(a, b) for a, b in periods if b is not None)
    if status in DONE:
        result.update(state="achieved" if elapsed <= seconds else "breached", met_at=solved_at.isoformat(),
                      elapsed=elapsed, over=max(0.0, elapsed - seconds))
    elif status not in ACTIVE:  # pending: the clock stands still
        result.update(state="breached" if elapsed > seconds else "paused", elapsed=elapsed,
                      over=max(0.0, elapsed - seconds), due=None, warn=None,
                      remaining=max(0.0, seconds - elapsed))
    return result


def _when_reached(periods, seconds: float, hours) -> datetime | None:
    """When the running periods add up to `seconds` (None: not while paused)."""
    for start, end in periods:
        if end is None:
            return hours.add(start, seconds)
        span = hours.seconds_between(start, end)
        if span >= seconds:
            return hours.add(start, seconds)
        seconds -= span
    return None


def _target(target: Target, start, due, warn) -> dict:
    return {"key": f"{target.kind}:{int(start.timestamp() * 1000)}", "kind": target.kind,
            "start": start.isoformat(), "due": due.isoformat() if due else None,
            "warn": warn.isoformat() if warn else None, "business": target.business,
            "minutes": target.minutes, "state": "active"}
