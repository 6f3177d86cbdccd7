"""Which events notify whom: pure functions of an event row, no queries (the sink reads the
rows in one query, these decide). One rule per event kind; anything else notifies nobody."""

from __future__ import annotations

from typing import NamedTuple

from notifications.models import Notification

Kind = Notification.Kind


class Row(NamedTuple):
    """An event as the sink reads it, with the ticket's current assignee joined in."""

    seq: int
    kind: str
    ticket_id: int | None
    message_id: int | None
    data: dict
    assignee_id: int | None


class Wanted(NamedTuple):
    user_id: int
    kind: str
    actor: str
    data: dict


def _mention(row: Row) -> list[Wanted]:
    user = row.data.get("user")
    return [Wanted(user, Kind.MENTION, row.data.get("by", ""), {})] if user else []


def _assignment(row: Row) -> list[Wanted]:
    """Assigned to someone new by someone else (a rule, auto-assignment or another agent):
    taking a ticket yourself, or a team change that leaves the assignee, tells nobody."""
    data = row.data
    assignee = data.get("assignee")
    if not assignee or "assignee" not in data.get("changed", ()) or assignee == data.get("actor_id"):
        return []
    return [Wanted(assignee, Kind.ASSIGNED, data.get("actor", ""), {})]


def _customer_reply(row: Row) -> list[Wanted]:
    if row.data.get("direction") != "inbound" or not row.assignee_id:
        return []
    return [Wanted(row.assignee_id, Kind.REPLY, row.data.get("author", ""), {})]


def _sla(kind: str):
    def rule(row: Row) -> list[Wanted]:
        details = {"target": row.data.get("target", ""), "due": row.data.get("due", "")}
        return [Wanted(user, kind, "", details) for user in row.data.get("notify") or ()]
    return rule


def _low_rating(row: Row) -> list[Wanted]:
    user = row.data.get("notify")  # surveys sets it on a low rating of an assigned ticket
    return [Wanted(user, Kind.LOW_CSAT, "", {"rating": row.data.get("rating")})] if user else []


RULES = {
    "agent.mentioned": _mention,
    "ticket.updated": _assignment,
    "message.created": _customer_reply,
    "sla.warning": _sla(Kind.SLA_WARNING),
    "sla.breached": _sla(Kind.SLA_BREACHED),
    "csat.rated": _low_rating,
}


def wanted(row: Row) -> list[Wanted]:
    rule = RULES.get(row.kind)
    return rule(row) if rule is not None and row.ticket_id is not None else []
