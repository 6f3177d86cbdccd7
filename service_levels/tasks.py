"""Warnings and breaches, found by the task worker at the moment they fall due.

Every metrics record carries `next_check_at`, its next warning or breach moment (indexed). One
`sweep` task is enqueued to run at the earliest of them (django.tasks `run_after`; the Wakeup
row remembers when, so a change that is not earlier enqueues nothing). The sweep reads only the
records that are due, off that index, records what fell due, and enqueues itself for the next
moment. So the worker never scans the open tickets: 100,000 of them cost nothing until one
falls due.

Exactly once, with any number of workers: due records are taken with SELECT ... FOR UPDATE
SKIP LOCKED (two sweeps split them), and an Alert row (unique per ticket, target and kind) is
written in the same transaction as the event that announces it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.tasks import task
from django.utils import timezone

from service_levels.models import Alert, TicketMetrics, Wakeup
from tickets import events
from tickets.models import Ticket

log = logging.getLogger(__name__)

WARNING, BREACHED = "sla.warning", "sla.breached"
BATCH = 200


@task()
def sweep() -> str:
    now = timezone.now()
    counts = record_due(now)
    schedule_next(now)
    return f"{counts['checked']} checked, {counts['warning'] + counts['breach']} recorded"


def record_due(now: datetime) -> dict[str, int]:
    """Check every record whose next warning or breach moment has come, in batches (each its
    own transaction, due rows locked SKIP LOCKED so several workers split them). Returns how
    many were checked and how many warnings and breaches were recorded."""
    counts = {"checked": 0, Alert.Kind.WARNING: 0, Alert.Kind.BREACH: 0}
    while True:
        with transaction.atomic():
            due = TicketMetrics.objects.filter(next_check_at__lte=now).order_by("next_check_at")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            batch = list(due[:BATCH])
            tickets = Ticket.objects.select_related("team").in_bulk([m.ticket_id for m in batch])
            for metrics in batch:
                for kind in check(metrics, tickets.get(metrics.ticket_id), now):
                    counts[kind] += 1
            counts["checked"] += len(batch)
        if len(batch) < BATCH:
            return counts


def check(metrics: TicketMetrics, ticket: Ticket | None, now: datetime) -> list[str]:
    """Record what fell due on one ticket (a breach makes its warning moot) and move its
    next check to the next moment still ahead. Returns the kinds recorded."""
    fired, later = [], []
    for target in metrics.targets:
        if target["state"] != "active" or not target.get("due"):
            continue
        due = datetime.fromisoformat(target["due"])
        warn = datetime.fromisoformat(target["warn"]) if target.get("warn") else None
        later += [m for m in (warn, due) if m is not None and m > now]
        kind = Alert.Kind.BREACH if due <= now else Alert.Kind.WARNING if warn is not None and warn <= now else None
        if kind and ticket is not None and _record_once(ticket, target, kind, due, now):
            fired.append(kind)
    TicketMetrics.objects.filter(pk=metrics.pk).update(next_check_at=min(later, default=None))
    return fired


def schedule_next(now: datetime) -> None:
    """Enqueue the sweep for the earliest moment still ahead. The Wakeup row is locked first:
    a change about to enqueue an earlier sweep holds it shared (service_levels.metrics), so
    its moment is either seen here or enqueued by itself."""
    with transaction.atomic():
        wakeup, _created = Wakeup.objects.select_for_update().get_or_create(id=1)
        upcoming = (TicketMetrics.objects.filter(next_check_at__gt=now).order_by("next_check_at")
                    .values_list("next_check_at", flat=True).first())
        if upcoming is not None and (wakeup.at is None or wakeup.at <= now or upcoming < wakeup.at):
            from tickets.queueing import enqueue_on_commit

            enqueue_on_commit(sweep.using(run_after=upcoming))
            wakeup.at = upcoming
        elif upcoming is None:
            wakeup.at = None
        wakeup.save(update_fields=["at"])


def _record_once(ticket: Ticket, target: dict, kind: str, due: datetime, now: datetime) -> bool:
    try:
        with transaction.atomic():
            Alert.objects.create(ticket=ticket, target=target["key"], kind=kind, due_at=due)
    except IntegrityError:
        return False  # another worker (or an earlier sweep) recorded it
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
