"""Ticket properties an agent changes: assignee, team, status, priority."""

from __future__ import annotations

from django.db import transaction

from tickets import events
from tickets.models import Ticket
from tickets.payloads import ticket_data
from tickets.people import display_name

Status = Ticket.Status


def _update_ticket(ticket: Ticket, actor, kind: str, **changes) -> Ticket:
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        before = {field: getattr(ticket, field) for field in changes}
        if all(before[f] == v for f, v in changes.items()):
            return ticket
        for field, value in changes.items():
            setattr(ticket, field, value)
        ticket.save(update_fields=[*changes, "updated_at"])
        data = ticket_data(ticket)
        data["change"] = kind
        data["actor"] = display_name(actor)
        # Who and what exactly, for apps reacting to the event (notifications: "assigned to you"
        # only when the assignee really changed, and not when agents take a ticket themselves).
        data["actor_id"] = getattr(actor, "pk", None)
        data["changed"] = [field for field, value in changes.items() if before[field] != value]
        # What it was: the console's activity line says "from Open to Solved", integrators diff.
        data["previous"] = {field: getattr(value, "pk", value) for field, value in before.items()}
        events.record("ticket.updated", ticket=ticket, data=data)
    return ticket


def assign(ticket: Ticket, *, assignee=None, team=None, actor=None) -> Ticket:
    changes = {"assignee": assignee}
    if team is not None:
        changes["team"] = team
    return _update_ticket(ticket, actor, "assignment", **changes)


def set_status(ticket: Ticket, status: str, *, actor=None) -> Ticket:
    if status not in Status.values:
        raise ValueError(f"unknown status {status!r}")
    return _update_ticket(ticket, actor, "status", status=status)


def set_priority(ticket: Ticket, priority: int, *, actor=None) -> Ticket:
    if int(priority) not in Ticket.Priority.values:
        raise ValueError(f"unknown priority {priority!r}")
    return _update_ticket(ticket, actor, "priority", priority=int(priority))
