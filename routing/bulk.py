"""Bulk actions from the queue: one change to many tickets, each ticket in its own
transaction through tickets.services (events flow as for single changes), and a result per
ticket: one that fails (not allowed, gone, refused) never stops the others."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from routing import macros, merging
from tickets import services
from tickets.models import Ticket
from tickets.policy import visible_ticket_ids

log = logging.getLogger(__name__)
ACTIONS = ("assign", "status", "priority", "add_tag", "macro", "merge")
MAX_TICKETS = 500


class BulkRefused(ValueError):
    pass


def run(user, ticket_ids, action: str, value: str) -> list[dict]:
    if action not in ACTIONS:
        raise BulkRefused(_("Unknown bulk action %(a)r.") % {"a": action})
    ids = list(dict.fromkeys(int(i) for i in ticket_ids))
    if not ids:
        raise BulkRefused(_("Select at least one ticket."))
    if len(ids) > MAX_TICKETS:
        raise BulkRefused(_("At most %(n)s tickets at once.") % {"n": MAX_TICKETS})
    allowed = visible_ticket_ids(user, ids)
    tickets = Ticket.objects.in_bulk(allowed)
    change = _merge(user, tickets, ids, value) if action == "merge" else _prepare(user, action, value)
    results = []
    for ticket_id in ids:
        ticket = tickets.get(ticket_id)
        if ticket is None:
            results.append({"ticket": ticket_id, "ok": False, "error": _("Not found or not allowed.")})
            continue
        if action == "merge" and str(ticket_id) == str(value):
            results.append({"ticket": ticket_id, "ok": True, "kept": True})
            continue
        try:
            change(ticket)
            results.append({"ticket": ticket_id, "ok": True})
        except (services.ReplyRefused, ValueError) as exc:
            results.append({"ticket": ticket_id, "ok": False, "error": getattr(exc, "reason", str(exc))})
        except Exception:  # noqa: BLE001 - one ticket's failure must not stop the rest
            log.exception("bulk %s failed on ticket %s", action, ticket_id)
            results.append({"ticket": ticket_id, "ok": False, "error": _("Failed; see the server log.")})
    return results


def _prepare(user, action: str, value: str):
    """The per-ticket change, with its value checked once up front."""
    if action == "assign":
        assignee = None
        if value:
            assignee = get_user_model().objects.filter(pk=_int(value), is_active=True).first()
            if assignee is None:
                raise BulkRefused(_("Unknown agent."))
        return lambda t: services.assign(t, assignee=assignee, actor=user)
    if action == "status":
        if value not in Ticket.Status.values:
            raise BulkRefused(_("Unknown status."))
        return lambda t: services.set_status(t, value, actor=user)
    if action == "priority":
        if _int(value) not in Ticket.Priority.values:
            raise BulkRefused(_("Unknown priority."))
        return lambda t: services.set_priority(t, _int(value), actor=user)
    if action == "add_tag":
        if not value.strip():
            raise BulkRefused(_("Name a tag."))

        def tag(t):
            services.set_tags(t, [*t.tags.values_list("name", flat=True), value], actor=user)
        return tag
    macro = macros.available(user).filter(pk=_int(value)).first()
    if macro is None:
        raise BulkRefused(_("Unknown macro."))
    return lambda t: macros.apply(macro, t, user)


def _merge(user, tickets: dict, ids: list[int], value: str):
    """Merge the others into the selected ticket `value` (one of them, visible to the user)."""
    target = tickets.get(_int(value)) if _int(value) in ids else None
    if target is None:
        raise BulkRefused(_("Choose which of the selected tickets to keep."))
    if len(ids) < 2:
        raise BulkRefused(_("Select at least two tickets to merge."))
    if target.status == Ticket.Status.CLOSED:
        raise BulkRefused(_("A closed ticket cannot take others: choose an open one to keep."))
    return lambda t: merging.merge_into(target, t, actor=user)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
