"""The routing pass: read the event log from where the last pass stopped, run the rules for
what happened (and put new tickets in their inbox's team), then assign waiting tickets.

It runs in the task worker (routing.tasks.route), asked for after commit by the event sink
(routing.sinks) and when an agent comes online. Passes are serialised by the RoutingState row
lock, so two workers never assign at once (see routing.assignment).

Loops: an event a rule caused is marked with the rule as its actor; that rule does not run on
it again, and a chain of rule-caused changes stops at MAX_DEPTH.
"""

from __future__ import annotations

import logging
from functools import cached_property

from django.db import transaction
from django.db.models import Q

from routing import assignment, autoreply, rules
from routing.models import Inbox, RoutingState, Rule, Snooze, TeamRouting
from tickets import events, services
from tickets.models import Event, Message, Ticket

log = logging.getLogger(__name__)

BATCH = 200
MAX_PASSES = 50
MAX_DEPTH = 3
RELEVANT = ("ticket.created", "message.created", "ticket.updated", "sla.warning")


def locked_state() -> RoutingState:
    """The routing lock (held until the caller's transaction ends). Created on first use at the
    current end of the log: switching routing on never replays history."""
    state = RoutingState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        RoutingState.objects.get_or_create(pk=1, defaults={"last_seq": events.current_seq()})
        state = RoutingState.objects.select_for_update().get(pk=1)
    return state


def is_configured() -> bool:
    return (Rule.objects.filter(is_active=True).exists()
            or Inbox.objects.filter(Q(team__isnull=False) | ~Q(out_of_hours_reply="")).exists()
            or TeamRouting.objects.filter(~Q(mode=TeamRouting.Mode.OFF) | Q(release_when_offline=True)).exists())


def start_from_now_if_idle() -> None:
    """Called when routing is configured: while nothing was configured the sink asked for no
    pass and the cursor stood still; new rules must not act on that old backlog."""
    from routing.sinks import forget_configuration

    forget_configuration()
    with transaction.atomic():
        state = locked_state()
        if not is_configured():
            state.last_seq = events.current_seq()
            state.save(update_fields=["last_seq"])


def run_pass() -> dict:
    """Process everything the log holds since the last pass, then fill the teams. Returns counts."""
    # ticket -> depth of the rule chain acting on it in this pass; ("created", ticket) -> seq
    depth: dict = {}
    totals = {"events": 0, "rules": 0, "assigned": 0}
    for _round in range(MAX_PASSES):
        with transaction.atomic():
            state = locked_state()
            high = events.current_seq()
            rows = list(Event.objects.filter(seq__gt=state.last_seq, seq__lte=high, kind__in=RELEVANT)
                        .order_by("seq")[:BATCH])
            if rows:
                totals["rules"] += _handle(rows, depth)
            state.last_seq = rows[-1].seq if len(rows) == BATCH else high
            state.save(update_fields=["last_seq"])
            totals["events"] += len(rows)
            totals["assigned"] += len(assignment.fill())
        if len(rows) < BATCH and events.current_seq() <= state.last_seq:
            break
    else:
        request_pass()  # still more: continue in a fresh task rather than hold a worker
    from routing.schedule import ensure_sweep

    ensure_sweep()  # the periodic work (auto-close, late assignment) keeps itself queued
    return totals


def _handle(rows: list[Event], depth: dict) -> int:
    ticket_ids = {e.ticket_id for e in rows if e.ticket_id}
    tickets = Ticket.objects.select_related("customer").in_bulk(ticket_ids)
    active = list(Rule.objects.filter(is_active=True))
    inboxes = {i.key: i for i in Inbox.objects.select_related("team")}
    labels = {rules.rule_actor(r).label: r.pk for r in active}
    by_seq = {e.seq: e for e in rows}
    fired = 0
    for event in rows:
        ticket = tickets.get(event.ticket_id)
        if ticket is None:
            continue
        trigger, text = _trigger(event)
        caused_by = labels.get((event.data or {}).get("actor", ""))
        if trigger == Rule.Trigger.CUSTOMER_REPLIED and not caused_by:
            autoreply.maybe_send(ticket, _inbox_of(ticket, inboxes), event.message_id, event.created_at)
        if trigger == Rule.Trigger.CREATED:
            depth["created", ticket.pk] = event.seq
            text = _first_text(by_seq.get(event.seq + 1), ticket.pk)
        elif trigger == Rule.Trigger.CUSTOMER_REPLIED and depth.get(("created", ticket.pk)) == event.seq - 1:
            continue  # the first message of a new ticket: recorded with it, part of "created"
        if trigger is None:
            continue
        level = depth.get(ticket.pk, 0) + 1 if caused_by else 0
        if level > MAX_DEPTH:
            log.warning("rule chain on ticket %s stopped at depth %s", ticket.pk, MAX_DEPTH)
            continue
        if trigger == Rule.Trigger.CREATED:
            ticket = tickets[ticket.pk] = _inbox_team(ticket, inboxes)
        elif trigger == Rule.Trigger.CUSTOMER_REPLIED and not caused_by:
            Snooze.objects.filter(ticket_id=ticket.pk).delete()  # "until the customer replies"
        facts = _facts(ticket, text, trigger, event.created_at)
        for rule in active:
            if rule.trigger != trigger or rule.pk == caused_by or not _matches(rule, facts):
                continue
            if _run(rule, ticket):
                fired += 1
                depth[ticket.pk] = level
                # The next rules see the ticket as this one left it.
                ticket = Ticket.objects.select_related("customer").get(pk=ticket.pk)
                facts = _facts(ticket, facts.text, trigger, facts.at)
                if rule.stop:
                    break
        tickets[ticket.pk] = ticket
    return fired


def _first_text(event: Event | None, ticket_id: int) -> str:
    """The text of a new ticket's first message when its event is in the batch (recorded right
    after ticket.created): no query for body conditions."""
    if (event is not None and event.ticket_id == ticket_id and event.kind == "message.created"
            and (event.data or {}).get("direction") == Message.Direction.INBOUND):
        return event.data.get("text", "")
    return ""


class _LazyText(rules.Facts):
    """Facts whose message text is read only if a condition asks for it: the first inbound
    message of a new ticket (the text of a reply comes with its event)."""

    def __init__(self, ticket: Ticket, at=None):
        self.ticket, self.at = ticket, at  # not self.text: that is the cached property below

    @cached_property
    def text(self) -> str:
        first = self.ticket.messages.filter(direction=Message.Direction.INBOUND).order_by("pk").first()
        return first.text if first else ""


def _facts(ticket: Ticket, text: str, trigger: str, at) -> rules.Facts:
    if trigger == Rule.Trigger.CREATED and not text:
        return _LazyText(ticket, at)
    return rules.Facts(ticket, text, at)


def _matches(rule: Rule, facts: rules.Facts) -> bool:
    try:
        return rules.matches(rule, facts)
    except Exception:  # a malformed stored condition: the rule is skipped, routing goes on
        log.exception("rule %s (%s) could not be evaluated on ticket %s; skipped", rule.pk, rule.name, facts.ticket.pk)
        return False


def _trigger(event: Event) -> tuple[str | None, str]:
    data = event.data or {}
    if event.kind == "ticket.created":
        return Rule.Trigger.CREATED, ""
    if event.kind == "message.created" and data.get("direction") == Message.Direction.INBOUND:
        return Rule.Trigger.CUSTOMER_REPLIED, data.get("text", "")
    if event.kind == "ticket.updated" and data.get("change", "status") == "status":
        return Rule.Trigger.STATUS_CHANGED, ""
    if event.kind == "sla.warning":
        return Rule.Trigger.SLA_WARNING, ""
    return None, ""


def _run(rule: Rule, ticket: Ticket) -> bool:
    """One matching rule's actions, in a savepoint: a failing rule is logged and skipped, and
    leaves nothing half-done."""
    try:
        with transaction.atomic():
            rules.apply(rule, ticket)
        return True
    except Exception:  # a bad rule must never stop routing (nor ingest): log it and go on
        log.exception("rule %s (%s) failed on ticket %s; skipped", rule.pk, rule.name, ticket.pk)
        return False


def _inbox_of(ticket: Ticket, inboxes: dict):
    """The ticket's inbox: the exact one, else its channel's default."""
    return inboxes.get(ticket.inbox) or inboxes.get(ticket.channel)


def _inbox_team(ticket: Ticket, inboxes: dict) -> Ticket:
    """A new ticket joins its inbox's team."""
    inbox = _inbox_of(ticket, inboxes)
    if inbox is None or inbox.team is None or ticket.team_id is not None:
        return ticket
    updated = services.assign(ticket, assignee=ticket.assignee, team=inbox.team,
                              actor=assignment.Actor(str(inbox.name)))
    updated.customer = ticket.customer
    return updated


def dry_run(rule: Rule, limit: int = 200) -> list[Ticket]:
    """Recent tickets the rule's conditions match now (nothing is changed)."""
    recent = Ticket.objects.select_related("customer").filter(~Q(status=Ticket.Status.CLOSED)).order_by("-pk")[:limit]
    return [ticket for ticket in recent if _matches(rule, _LazyText(ticket, ticket.created_at))]


def request_pass() -> None:
    """Ask the worker for a pass unless one is already waiting to start (it will see everything
    committed before it starts, so a second would find nothing)."""
    from routing.tasks import route

    if not _pass_waiting():
        route.enqueue()


def _pass_waiting() -> bool:
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from routing.tasks import route

    return DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=route.module_path).exists()
