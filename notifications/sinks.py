"""The event-log sink (settings.HELPDESK_EVENT_SINKS): after each commit, turn the events that
concern an agent into notifications (notifications.rules) and push them to that agent. One
indexed read of the new events per commit; writes only when someone is notified."""

import logging

log = logging.getLogger(__name__)


def on_event(seqs: list[int]) -> None:
    from notifications.services import from_events

    try:
        from_events(seqs)
    except Exception:  # a notification bug must not turn a committed change into an error page
        log.exception("could not build notifications for events %s", seqs)
