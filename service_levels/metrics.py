"""The per-ticket metrics record, kept in step with the event log.

`on_events` is named in settings.HELPDESK_EVENT_HOOKS: tickets.events calls it inside the
transaction that records the events (in a savepoint; a failure is logged and the change goes
on). For each ticket the events touch it recomputes the whole record from the timeline
(service_levels.clock), so the live record and `rebuild_ticket_metrics` cannot disagree.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from service_levels import config
from service_levels.clock import Entry, Plan, compute
from service_levels.models import TicketMetrics
from tickets.models import Event, Message, Ticket

log = logging.getLogger(__name__)

# Events that can move a ticket's clock or counters (sla.* and presence-like kinds cannot).
TICKET_KINDS = {"ticket.created", "ticket.updated", "message.created", "message.status", "message.moved"}
STATUS_KINDS = ("ticket.created", "ticket.updated")
# Outbound messages a person did not write: never a reply (README, "the rules of the clock").
AUTOMATED_META = "automated"


def on_events(events: list[Event]) -> None:
    tickets: set[int] = set()
    for event in events:
        if event.kind in TICKET_KINDS and event.ticket_id:
            tickets.add(event.ticket_id)
        elif event.kind in ("customer.merged", "customer.unmerged"):
            tickets.update((event.data or {}).get("tickets") or ())  # their organisation may differ
        elif event.kind == "customer.updated" and event.customer_id:
            tickets.update(Ticket.objects.filter(customer_id=event.customer_id, status__in=Ticket.ACTIVE_STATUSES)
                           .values_list("pk", flat=True))
    news = {}
    for event in events:
        if event.kind in STATUS_KINDS and (event.data or {}).get("status"):
            news.setdefault(event.ticket_id, []).append([event.created_at.isoformat(), event.data["status"]])
    for ticket_id in sorted(tickets):  # one lock order for every writer
        refresh(ticket_id, news.get(ticket_id, []))


def refresh(ticket_id: int, new_statuses: list | None = None, *, rebuild: bool = False) -> TicketMetrics | None:
    """Recompute one ticket's record. `new_statuses`: status changes this transaction recorded
    (already in the event table too, which is what a missing record is seeded from)."""
    metrics = TicketMetrics.objects.select_for_update().filter(ticket_id=ticket_id).first()
    ticket = (Ticket.objects.filter(pk=ticket_id)
              .values("created_at", "status", "priority", "team_id", "channel", "customer__organisation").first())
    if ticket is None:
        return None
    if metrics is None or rebuild:
        log_entries = status_history(ticket_id)
        metrics = metrics or TicketMetrics(ticket_id=ticket_id)
    else:
        log_entries = list(metrics.status_log)
        for entry in new_statuses or ():
            if not log_entries or log_entries[-1][1] != entry[1]:
                log_entries.append(entry)
    plan = plan_for(ticket_id, ticket)
    result = compute(ticket["created_at"], timeline(ticket_id),
                     [(datetime.fromisoformat(at), status) for at, status in log_entries], plan)
    previous_check, previous_targets = metrics.next_check_at, metrics.targets or []
    for name, value in result.items():
        setattr(metrics, name, value)
    metrics.status_log = log_entries
    metrics.policy_id, metrics.policy_name = plan.policy_id, plan.policy_name
    metrics.next_check_at = next_check(result["targets"], timezone.now(), previous_targets)
    metrics.save()
    if not rebuild and metrics.next_check_at and metrics.next_check_at != previous_check:
        from service_levels.tasks import check_ticket
        from tickets.queueing import enqueue_on_commit

        enqueue_on_commit(check_ticket.using(run_after=metrics.next_check_at), ticket_id)
    return metrics


def plan_for(ticket_id: int, ticket: dict) -> Plan:
    from tickets.models import Ticket as T

    tag_ids = list(T.tags.through.objects.filter(ticket_id=ticket_id).values_list("tag_id", flat=True))
    try:
        return config.current().plan_for(channel=ticket["channel"], priority=ticket["priority"],
                                         team_id=ticket["team_id"], tag_ids=tag_ids,
                                         organisation=ticket["customer__organisation"])
    except config.PolicyError as error:
        # Bad configuration never stops the change: this ticket has no clock until it is fixed.
        log.warning("ticket %s has no SLA clock: %s", ticket_id, error)
        return Plan()


def timeline(ticket_id: int) -> list[Entry]:
    rows = Message.objects.filter(ticket_id=ticket_id).values_list("created_at", "direction", "status",
                                                                   "author_id", "meta")
    return [Entry(at, direction, status, by_agent=author is not None and not (meta or {}).get(AUTOMATED_META))
            for at, direction, status, author, meta in rows]


def status_history(ticket_id: int) -> list[list]:
    """The ticket's status changes as the event log recorded them (for a record that does not
    exist yet, and for rebuilds). When the log was pruned, the ticket's current status counts
    from its last update."""
    entries: list[list] = []
    for at, data in (Event.objects.filter(ticket_id=ticket_id, kind__in=STATUS_KINDS).order_by("seq")
                     .values_list("created_at", "data")):
        status = (data or {}).get("status")
        if status and (not entries or entries[-1][1] != status):
            entries.append([at.isoformat(), status])
    if not entries:
        ticket = Ticket.objects.filter(pk=ticket_id).values("created_at", "updated_at", "status").first()
        entries.append([ticket["created_at"].isoformat(), "new"])
        if ticket["status"] != "new":
            entries.append([ticket["updated_at"].isoformat(), ticket["status"]])
    return entries


def next_check(targets: list[dict], now, previous: list[dict] = ()) -> datetime | None:
    """The next moment a warning or a breach is due on an active target; now, when this change
    made one fall due already (a priority change to a shorter target), since no check is
    waiting for that moment."""
    moments = {(t["key"], t[name]) for t in targets if t["state"] == "active" for name in ("warn", "due") if t.get(name)}
    scheduled = {(t["key"], t[name]) for t in previous if t["state"] == "active" for name in ("warn", "due") if t.get(name)}
    if any(datetime.fromisoformat(m) <= now for key, m in moments - scheduled):
        return now
    return min((datetime.fromisoformat(m) for _key, m in moments if datetime.fromisoformat(m) > now), default=None)


def rebuild(ticket_id: int) -> TicketMetrics | None:
    with transaction.atomic():
        return refresh(ticket_id, rebuild=True)
