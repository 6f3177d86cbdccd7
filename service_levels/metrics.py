"""The per-ticket metrics record, kept in step with the event log.

`on_events` is named in settings.HELPDESK_EVENT_HOOKS: tickets.events calls it inside the
transaction that records the events (in a savepoint; a failure is logged and the change goes
on). For each ticket the events touch it recomputes the whole record from the timeline
(service_levels.clock), so the live record and `rebuild_ticket_metrics` cannot disagree.

Ingest is the hot path, so two changes skip the full read: a customer writing again while
they already wait (only the message count moves: one UPDATE), and a new ticket (its whole
timeline and the ticket's fields are in the events at hand: one read of the two one-row
tables, one INSERT). Both give exactly what the full computation gives; the reads are plain
SQL (tickets.sql) for the same reason as ingest's own.

No savepoint on SQLite (the hook is marked `keeps_whole`): everything that can fail in Python
is computed first, a ticket's record is its last write, and the only write before it (an
earlier wake-up) is harmless alone: a sweep that finds nothing due just plans the next one.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from service_levels import config
from service_levels.clock import Entry, Plan, compute
from service_levels.models import ConfigVersion, TicketMetrics, Wakeup
from tickets import sql
from tickets.automated import AUTOMATED as AUTOMATED_META
from tickets.automated import is_filed_aside
from tickets.events import wants
from tickets.models import Customer, Event, Message, Ticket

log = logging.getLogger(__name__)

# Events that can move a ticket's clock or counters (sla.* and presence-like kinds cannot).
TICKET_KINDS = {"ticket.created", "ticket.updated", "message.created", "message.status", "message.moved"}
STATUS_KINDS = ("ticket.created", "ticket.updated")
# Customer changes that can move a condition (their organisation) of their tickets' policies.
CUSTOMER_KINDS = ("customer.merged", "customer.unmerged", "customer.updated")
# Outbound messages a person did not write (tickets.automated): never a reply (README, "the
# rules of the clock").

TICKET_FIELDS = ("created_at", "status", "priority", "team_id", "channel", "customer_id", "inbox")
SAVED_ATTNAMES = tuple(f.attname for f in TicketMetrics._meta.concrete_fields if f.name != "ticket")


@wants(*TICKET_KINDS, *CUSTOMER_KINDS, keeps_whole=True)
def on_events(events: list[Event]) -> None:
    by_ticket: dict[int, list[Event]] = {}
    extra: set[int] = set()
    for event in events:
        if event.kind in TICKET_KINDS and event.ticket_id:
            by_ticket.setdefault(event.ticket_id, []).append(event)
        elif event.kind in ("customer.merged", "customer.unmerged"):
            extra.update((event.data or {}).get("tickets") or ())  # their organisation may differ
        elif event.kind == "customer.updated" and event.customer_id:
            extra.update(Ticket.objects.filter(customer_id=event.customer_id, status__in=Ticket.ACTIVE_STATUSES)
                         .values_list("pk", flat=True))
    for ticket_id in sorted(set(by_ticket) | extra):  # one lock order for every writer
        batch = by_ticket.get(ticket_id, [])
        if _customer_still_waiting(ticket_id, batch):
            continue
        news = [[e.created_at.isoformat(), e.data["status"]] for e in batch
                if e.kind in STATUS_KINDS and (e.data or {}).get("status")]
        refresh(ticket_id, news, batch=batch)


def _customer_still_waiting(ticket_id: int, batch: list[Event]) -> bool:
    """A customer's follow-up while they already wait, status unchanged: the clock does not
    move, one more customer message is all (the full computation would say the same)."""
    if len(batch) != 1 or batch[0].kind != "message.created" or (batch[0].data or {}).get("direction") != "inbound":
        return False
    # (updated_at stays: it says when the clock last moved, and a count is not the clock.)
    return sql.add(TicketMetrics, "customer_messages", 1, ticket_id=ticket_id, awaiting_since__isnull=False) == 1


def refresh(ticket_id: int, new_statuses: list | None = None, *, rebuild: bool = False,
            batch: list[Event] = ()) -> TicketMetrics | None:
    """Recompute one ticket's record. `new_statuses`: status changes this transaction recorded
    (already in the event table too, which is what a missing record is seeded from)."""
    # A ticket created by this very change, with only the customer's message(s): the events
    # at hand are its whole timeline.
    new_ticket = (any(e.kind == "ticket.created" for e in batch)
                  and all(e.kind in STATUS_KINDS or (e.kind == "message.created" and e.data.get("direction") == "inbound")
                          for e in batch))
    if not new_ticket:
        sql.lock(TicketMetrics, ticket_id=ticket_id)  # concurrent changes of one ticket take turns
    # The two one-row tables a change reads, in one statement: the configuration's version and
    # the moment the next sweep is enqueued for.
    version, wakeup_at = sql.first_rows((ConfigVersion, "value"), (Wakeup, "at"))
    metrics = None if new_ticket else sql.get(TicketMetrics, ticket_id=ticket_id)
    ticket = _created_ticket(batch) if new_ticket else None
    if ticket is None:
        rows = sql.values(Ticket, TICKET_FIELDS, id=ticket_id)
        if not rows:
            return None
        ticket = dict(zip(TICKET_FIELDS, rows[0], strict=True))
    if new_ticket:
        log_entries = _append_statuses([], new_statuses)
        messages = [_entry_of(e.data) for e in batch if e.kind == "message.created"]
    else:
        if metrics is None or rebuild:
            log_entries = status_history(ticket_id)
        else:
            log_entries = _append_statuses(list(metrics.status_log), new_statuses)
        messages = timeline(ticket_id)
    plan = plan_for(ticket_id, ticket, new_ticket=new_ticket, version=version)
    values = compute(ticket["created_at"], messages, [(datetime.fromisoformat(at), status) for at, status in log_entries],
                     plan)
    now = timezone.now()
    values.update(status_log=log_entries, policy_id=plan.policy_id, policy_name=plan.policy_name, updated_at=now,
                  next_check_at=next_check(values["targets"], now, metrics.targets if metrics else ()))
    if values["next_check_at"] and not rebuild:
        wake_by(values["next_check_at"], known=wakeup_at)
    # Last: the record is the write that must not be half-done (see the module's docstring).
    sql.write_values(TicketMetrics, ticket_id, {name: values[name] for name in SAVED_ATTNAMES},
                     exists=metrics is not None)
    return _instance(ticket_id, values)


def _instance(ticket_id: int, values: dict) -> TicketMetrics:
    """The written record as an instance, without Model.__init__ (see tickets.events._event)."""
    metrics = TicketMetrics.__new__(TicketMetrics)
    metrics._state = ModelState()
    metrics._state.adding, metrics._state.db = False, connection.alias
    metrics.__dict__.update(values, ticket_id=ticket_id)
    return metrics


def _created_ticket(batch: list[Event]) -> dict | None:
    """The new ticket's fields as its ticket.created event carries them (None for events
    written before they carried its creation time)."""
    data = next((e.data for e in batch if e.kind == "ticket.created"), None) or {}
    if not data.get("created_at"):
        return None
    return {"created_at": datetime.fromisoformat(data["created_at"]), "status": data["status"],
            "priority": data["priority"], "team_id": data["team"], "channel": data["channel"],
            "customer_id": data["customer"], "inbox": data.get("inbox") or ""}


def _append_statuses(entries: list, new_statuses) -> list:
    for entry in new_statuses or ():
        if not entries or entries[-1][1] != entry[1]:
            entries.append(entry)
    return entries


def _entry_of(data: dict) -> Entry:
    """A customer's message as its message.created event describes it (what timeline() reads)."""
    return Entry(datetime.fromisoformat(data["created_at"]), "inbound", data["status"], by_agent=False)


def plan_for(ticket_id: int, ticket: dict, *, new_ticket: bool = False, version: int | None = None) -> Plan:
    current = config.current(version)
    tag_ids = []
    if current.uses_tags and not new_ticket:  # a new ticket has no tags yet
        tag_ids = [r[0] for r in sql.values(Ticket.tags.through, ("tag_id",), ticket_id=ticket_id)]
    organisation = ""
    if current.uses_organisations:
        organisation = sql.values(Customer, ("organisation",), id=ticket["customer_id"])[0][0]
    try:
        return current.plan_for(channel=ticket["channel"], priority=ticket["priority"], team_id=ticket["team_id"],
                                tag_ids=tag_ids, organisation=organisation, inbox=ticket.get("inbox") or "")
    except config.PolicyError as error:
        # Bad configuration never stops the change: this ticket has no clock until it is fixed.
        log.warning("ticket %s has no SLA clock: %s", ticket_id, error)
        return Plan()


def timeline(ticket_id: int) -> list[Entry]:
    rows = sql.values(Message, ("created_at", "direction", "status", "author_id", "meta"), ticket_id=ticket_id)
    return [Entry(at, direction, status, by_agent=author is not None and not (meta or {}).get(AUTOMATED_META),
                  author_id=author)
            for at, direction, status, author, meta in rows
            if not (direction == "inbound" and is_filed_aside(meta))]  # a survey answer is no request


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
    made one fall due already (a priority change to a shorter target)."""
    moments = {(t["key"], t[name]) for t in targets if t["state"] == "active" for name in ("warn", "due") if t.get(name)}
    scheduled = {(t["key"], t[name]) for t in previous if t["state"] == "active" for name in ("warn", "due") if t.get(name)}
    if any(datetime.fromisoformat(m) <= now for key, m in moments - scheduled):
        return now
    return min((datetime.fromisoformat(m) for _key, m in moments if datetime.fromisoformat(m) > now), default=None)


def wake_by(moment: datetime, known: datetime | None | bool = False) -> None:
    """Make sure a sweep runs by `moment`: enqueue one only when the next sweep already
    enqueued is later (or none is), which most changes are not. `known`: Wakeup.at as the
    caller read it in this transaction (SQLite: nobody else writes until we commit)."""
    if connection.features.has_select_for_update:
        # A shared lock: changes do not wait for each other, but a sweep that is about to
        # decide the next wake-up (FOR UPDATE) waits for them, so none is missed.
        sql.lock(Wakeup, share=True, id=1)
        known = False  # read it again under the lock
    if known is False:
        wakeup = sql.get(Wakeup, id=1)
        known = wakeup.at if wakeup is not None else None
    if known is not None and known <= moment:
        return
    from service_levels.tasks import sweep
    from tickets.queueing import enqueue_on_commit

    if not Wakeup.objects.filter(id=1).update(at=moment):
        Wakeup.objects.update_or_create(id=1, defaults={"at": moment})
    enqueue_on_commit(sweep.using(run_after=moment))


def rebuild(ticket_id: int) -> TicketMetrics | None:
    with transaction.atomic():
        return refresh(ticket_id, rebuild=True)
