"""Every write of notifications (creating them from events, reading them, pruning) and the
reads the bell shows. Each a fixed number of queries."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import relay
from notifications.models import Notification
from notifications.rules import Row, wanted
from tickets import doorbell, events, policy, sql
from tickets.models import Ticket

LIST_SIZE = 30  # the bell's dropdown; older ones are on the full list page
EXCERPT = 140


def from_events(seqs: list[int]) -> list[Notification]:
    """The notifications these committed events call for (events.committed), for agents
    who may see the ticket, each at most once; then each recipient's consoles are told."""
    rows = _rows(seqs)
    candidates = [(row, w) for row in rows for w in wanted(row)]
    if not candidates:
        return []
    users = get_user_model().objects.filter(pk__in={w.user_id for _row, w in candidates}, is_active=True).in_bulk()
    fresh = [Notification(user_id=w.user_id, kind=w.kind, ticket_id=row.ticket_id, message_id=row.message_id,
                          seq=row.seq, actor=w.actor[:200], data=w.data)
             for row, w in candidates
             if w.user_id in users and policy.can_see_ticket(users[w.user_id], row.ticket_id)]
    if not fresh:
        return []
    relay.announced_here((n.user_id, n.seq) for n in fresh)  # before commit: the relay skips them
    with transaction.atomic():
        Notification.objects.bulk_create(fresh, ignore_conflicts=True)  # a sink run twice adds nothing
        recipients = {n.user_id: users[n.user_id] for n in fresh}
        transaction.on_commit(lambda: announce(recipients, {n.seq for n in fresh}), robust=True)
    return fresh


def _rows(seqs) -> list[Row]:
    """The new events the rules read (from memory in the change's own sink: events.committed),
    with their ticket's current assignee: a plain statement (tickets.sql), and only for a
    customer's message. This runs after every commit, ingest's included, where compiling an
    ORM query cost more than running it (bench/ingest.py)."""
    found = [(e.seq, e.kind, e.ticket_id, e.message_id, e.data) for e in events.committed(seqs, _kinds())]
    # Only a customer's message asks who is assigned (rules.customer_replied).
    ticket_ids = sorted({ticket_id for _seq, kind, ticket_id, _message, data in found
                         if ticket_id is not None and kind == "message.created" and (data or {}).get("direction") == "inbound"})
    assignees = dict(sql.values(Ticket, ("id", "assignee_id"), id__in=ticket_ids)) if ticket_ids else {}
    return [Row(seq, kind, ticket_id, message_id, data or {}, assignees.get(ticket_id))
            for seq, kind, ticket_id, message_id, data in found]


def _kinds():
    from notifications.rules import RULES

    return list(RULES)


def announce(users: dict, seqs: set[int]) -> None:
    """Push the new notifications to their agents' consoles (events.user_group), with each
    agent's unread count as the bell counts it. Lost pushes are caught up on reconnect (the
    bell re-reads the count). Usually one agent: a query for the items, one count each."""
    new = (Notification.objects.filter(user_id__in=users, seq__in=seqs)
           .values_list("user_id", *_ITEM_COLUMNS))
    by_user: dict[int, list[dict]] = {}
    for user_id, *values in new:
        by_user.setdefault(user_id, []).append(_item(dict(zip(_ITEM_COLUMNS, values, strict=True))))
    for user_id, items in by_user.items():
        frame = json.dumps({"type": "notice", "app": "notifications", "unread": unread_count(users[user_id]),
                            "items": items})
        doorbell.push([events.user_group(user_id)], {"type": "user.notice", "frame": frame})


_ITEM_COLUMNS = ("pk", "kind", "ticket_id", "seq", "actor", "data", "created_at", "read_at", "ticket__subject",
                 "message__text", "message__author_name")


def _mine(user):
    return Notification.objects.filter(policy.visible_tickets(user, prefix="ticket__"), user=user)


def unread_count(user) -> int:
    """The bell's number, on every console page: plain SQL, because compiling the ORM query
    cost more than running it (bench/console_pages.py's queue page, see the README). The same
    rows as _mine(user).filter(read_at__isnull=True) (tests/test_notifications.py compares)."""
    teams = None if policy.sees_all_teams(user) else sorted(policy.team_ids(user))
    return sql.unread_for_user(Notification, user.pk, teams)


def recent(user, limit: int = LIST_SIZE, unread_only: bool = False) -> list[dict]:
    """The newest notifications of tickets the agent may still see, as the bell shows them."""
    query = _mine(user)
    if unread_only:
        query = query.filter(read_at__isnull=True)
    rows = query.order_by("-created_at", "-pk").values(*_ITEM_COLUMNS)[:limit]
    return [_item(row) for row in rows]


def _item(row: dict) -> dict:
    kind = Notification.Kind(row["kind"])
    data = row["data"] or {}
    text = (row.get("message__text") or "").strip()
    if kind == Notification.Kind.LOW_CSAT:
        text = _("Rated %(rating)s/5") % {"rating": data.get("rating")}
    elif kind in (Notification.Kind.SLA_WARNING, Notification.Kind.SLA_BREACHED):
        text = _("Target: %(target)s") % {"target": data.get("target", "")}
    actor = row["actor"] or row.get("message__author_name") or ""
    return {
        "id": row["pk"], "kind": kind.value, "label": str(kind.label), "ticket": row["ticket_id"],
        "subject": row.get("ticket__subject") or "", "actor": actor,
        "text": text[:EXCERPT] + ("…" if len(text) > EXCERPT else ""),
        "due": data.get("due") or None,
        "created_at": row["created_at"].isoformat(), "read": row["read_at"] is not None,
        "url": reverse("notifications:open", args=[row["pk"]]),
    }


def mark_read(user, ids=None, ticket_id: int | None = None) -> int:
    """Mark the agent's notifications read: these ids, or all of one ticket's, or (neither) all."""
    query = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        query = query.filter(pk__in=ids)
    if ticket_id is not None:
        query = query.filter(ticket_id=ticket_id)
    return query.update(read_at=timezone.now())


def prune(days: int) -> int:
    """Delete read notifications older than `days` (unread ones stay until read)."""
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _detail = Notification.objects.filter(read_at__isnull=False, created_at__lt=cutoff).delete()
    return deleted
