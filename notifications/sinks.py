"""The event-log sink (settings.HELPDESK_EVENT_SINKS): after each commit, turn the events that
concern an agent into notifications (notifications.rules) and push them to that agent. The
events come from memory (tickets.events.committed); a customer's message reads its ticket's
assignee; writes only when someone is notified."""

import logging

log = logging.getLogger(__name__)


def on_event(seqs: list[int]) -> None:
    from notifications.services import from_events

    try:
        from_events(seqs)
    except Exception:  # a notification bug must not turn a committed change into an error page
        log.exception("could not build notifications for events %s", seqs)
