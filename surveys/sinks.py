"""The after-commit event sink (HELPDESK_EVENT_SINKS): a solve schedules the survey, a reopen
before it went out cancels it.

It runs after every commit that records events, ingest included, so it reads only the
ticket.updated events of that commit, in plain SQL (compiling an ORM query costs more than
running it on a small server: see tickets/plainsql.py), and does nothing else when there are
none."""

from __future__ import annotations

import json
import logging

from django.db import connection

from tickets.models import Event, Ticket

log = logging.getLogger(__name__)


def on_event(seqs) -> None:
    seqs = list(seqs)
    sql = (f"SELECT ticket_id, data FROM {Event._meta.db_table} "  # noqa: S608 - no user input
           f"WHERE seq IN ({', '.join(['%s'] * len(seqs))}) AND kind = %s AND ticket_id IS NOT NULL")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*seqs, "ticket.updated"])
        rows = cursor.fetchall()
    if not rows:
        return
    from surveys import services

    for ticket_id, data in rows:
        status = (json.loads(data) if isinstance(data, str) else data or {}).get("status")
        try:
            if status == Ticket.Status.SOLVED:
                services.schedule(ticket_id)
            elif status in Ticket.ACTIVE_STATUSES:
                services.cancel(ticket_id)
        except Exception:
            # After commit: the change itself stands; a survey problem must never surface there.
            log.exception("survey scheduling failed for ticket %s", ticket_id)
