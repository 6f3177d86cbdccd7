"""Warnings and breaches, found by the task worker at the moment they fall due.

Each change to a ticket's clock enqueues `check_ticket` to run at the next warning or breach
moment (django.tasks `run_after`), so the worker never scans the open tickets: 100,000 open
tickets cost nothing until one of them falls due. A check that finds nothing due (the ticket
was answered since, or a newer check was enqueued) just returns.

Exactly once, with any number of workers: the check locks the ticket's metrics row, and an
Alert row (unique per ticket, target and kind) is written in the same transaction as the
event that announces it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from service_levels.models import Alert, TicketMetrics
from tickets import events
from tickets.models import Ticket

log = logging.getLogger(__name__)

WARNING, BREACHED = "sla.warning", "sla.breached"


@task()
def check_ticket(ticket_id: int) -> str:
    now = timezone.now()
    fired = []
    with transaction.atomic():
        metrics = TicketMetrics.objects.select_for_update().filter(ticket_id=ticket_id).first()
        if metrics is None:
            return "gone"
        ticket = Ticket.objects.select_related("team").get(pk=ticket_id)
        for target in metrics.targets:
            if target["state"] != "active" or not target.get("due"):
                continue
            due = datetime.fromisoformat(target["due"])
            warn = datetime.fromisoformat(target["warn"]) if target.get("warn") else None
            if due <= now:
                kind = Alert.Kind.BREACH
            elif warn is not None and warn <= now:
                kind = Alert.Kind.WARNING
            else:
                continue
            if _record_once(ticket, target, kind, due, now):
                fired.append(f"{kind} {target['kind']}")
        later = [datetime.fromisoformat(t[name]) for t in metrics.targets if t["state"] == "active"
                 for name in ("warn", "due") if t.get(name) and datetime.fromisoformat(t[name]) > now]
        upcoming = min(later, default=None)
        if upcoming != metrics.next_check_at:
            TicketMetrics.objects.filter(pk=metrics.pk).update(next_check_at=upcoming)
            if upcoming is not None:
                from tickets.queueing import enqueue_on_commit

                enqueue_on_commit(check_ticket.using(run_after=upcoming), ticket_id)
    return ", ".join(fired) or "nothing due"


def _record_once(ticket: Ticket, target: dict, kind: str, due: datetime, now: datetime) -> bool:
    try:
        with transaction.atomic():
            Alert.objects.create(ticket=ticket, target=target["key"], kind=kind, due_at=due)
    except IntegrityError:
        return False  # another worker (or an earlier check) recorded it
    events.record(BREACHED if kind == Alert.Kind.BREACH else WARNING, ticket=ticket, data={
        "ticket": ticket.pk, "subject": ticket.subject, "target": target["kind"], "due": target["due"],
        "overdue_seconds": max(0.0, (now - due).total_seconds()),
        "assignee": ticket.assignee_id, "team": ticket.team_id, "notify": notified(ticket)})
    log.info("SLA %s: ticket %s %s (due %s)", kind, ticket.pk, target["kind"], target["due"])
    return True


def notified(ticket: Ticket) -> list[int]:
    """Who is told: the assignee, or every member of the ticket's team when it has no assignee."""
    if ticket.assignee_id:
        return [ticket.assignee_id]
    if ticket.team_id:
        return list(ticket.team.members.values_list("pk", flat=True))
    return []
