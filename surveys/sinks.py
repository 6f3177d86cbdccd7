"""What starts and stops a survey: a solve schedules it, a reopen before it went out cancels it.

Two ways in, one reaction (`react`):
- `on_event(seqs)`, an after-commit sink (HELPDESK_EVENT_SINKS). It runs after every commit that
  records events, ingest included, so it reads only that commit's ticket.updated events, in
  plain SQL (compiling an ORM query costs more than running it: see tickets/plainsql.py): one
  cheap query per commit.
- `on_events(events)`, for the in-transaction event hook (HELPDESK_EVENT_HOOKS, callables given
  the new Event rows) that the service-levels work adds to tickets/events.py: no query at all.
  Once that hook exists, register this instead of the sink (never both: each would schedule).
"""

from __future__ import annotations

import json
import logging

from django.db import connection

from tickets.events import wants
from tickets.models import Event, Ticket

log = logging.getLogger(__name__)


def on_event(seqs) -> None:
    seqs = list(seqs)
    sql = (f"SELECT ticket_id, data FROM {Event._meta.db_table} "  # noqa: S608 - no user input
           f"WHERE seq IN ({', '.join(['%s'] * len(seqs))}) AND kind = %s AND ticket_id IS NOT NULL")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*seqs, "ticket.updated"])
        rows = cursor.fetchall()
    for ticket_id, data in rows:
        react(ticket_id, json.loads(data) if isinstance(data, str) else data or {})


@wants("ticket.updated")  # called for no other change (ingest's included)
def on_events(events) -> None:
    for event in events:
        if event.kind == "ticket.updated" and event.ticket_id is not None:
            react(event.ticket_id, event.data or {})


def react(ticket_id: int, data: dict) -> None:
    from surveys import services

    status = data.get("status")
    try:
        if status == Ticket.Status.SOLVED:
            services.schedule(ticket_id)
        elif status in Ticket.ACTIVE_STATUSES:
            services.cancel(ticket_id)
    except Exception:
        # The change itself stands; a survey problem must never surface there.
        log.exception("survey scheduling failed for ticket %s", ticket_id)
