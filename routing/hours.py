"""Whether a ticket's inbox is open: the one place routing asks service_levels about business
hours (rule conditions "inside / outside business hours", the out-of-hours auto-reply).

Today the schedule is the ticket's team's, else the default one (service_levels.config, read
once per process and re-read when its version moves). When inboxes get schedules of their own,
only `hours_for` changes."""

from __future__ import annotations

import logging
from datetime import datetime

from service_levels import config as sla_config
from service_levels.hours import BusinessHours

log = logging.getLogger(__name__)


def hours_for(ticket) -> BusinessHours | None:
    """The business hours that apply to this ticket, or None when no schedule does."""
    config = sla_config.current()
    schedule_id = config.team_schedule.get(ticket.team_id) or config.default_schedule
    if not schedule_id:
        return None
    try:
        return config.schedule_hours(schedule_id)
    except sla_config.PolicyError as exc:  # a broken schedule must not stop routing
        log.warning("business hours of ticket %s unknown: %s", ticket.pk, exc)
        return None


def is_open(ticket, at: datetime) -> bool:
    """Inside business hours at `at`. With no schedule every moment is inside: nothing is
    "out of hours" until a team lead says when the hours are."""
    hours = hours_for(ticket)
    return True if hours is None else hours.is_open(at)
