"""The after-commit event sink (HELPDESK_EVENT_SINKS): a solve schedules the survey, a reopen
before it went out cancels it. Reads only ticket.updated events of the commit."""

from __future__ import annotations

import logging

from tickets.models import Event, Ticket

log = logging.getLogger(__name__)

DONE = {Ticket.Status.SOLVED, Ticket.Status.CLOSED}


def on_event(seqs) -> None:
    from surveys import services

    rows = Event.objects.filter(seq__in=list(seqs), kind="ticket.updated").values_list("ticket_id", "data")
    for ticket_id, data in rows:
        status = (data or {}).get("status")
        try:
            if status == Ticket.Status.SOLVED:
                services.schedule(ticket_id)
            elif status in Ticket.ACTIVE_STATUSES:
                services.cancel(ticket_id)
        except Exception:
            # After commit: the change itself stands; a survey problem must never surface there.
            log.exception("survey scheduling failed for ticket %s", ticket_id)
