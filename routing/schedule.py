"""Time-driven work: snoozed tickets wake up, solved tickets close after N days, and a
periodic sweep catches what no event announces (an agent going idle frees nobody, but one
coming back after a closed console is seen here)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routing.assignment import Actor
from routing.models import Snooze
from tickets import services
from tickets.models import Ticket
from tickets.queueing import enqueue_on_commit

log = logging.getLogger(__name__)


def snooze(ticket: Ticket, until, *, actor) -> Snooze:
    """Pending until `until`; the worker wakes it then (django.tasks run_after)."""
    from routing.tasks import wake

    if until <= timezone.now():
        raise ValueError(_("Snooze until a time in the future."))
    with transaction.atomic():
        services.set_status(ticket, Ticket.Status.PENDING, actor=actor)
        row, _created = Snooze.objects.update_or_create(ticket=ticket, defaults={"until": until, "by": actor})
        enqueue_on_commit(wake.using(run_after=until), ticket.pk, until.isoformat())
    return row


def wake_up(ticket_id: int, until_iso: str, now=None) -> bool:
    """Reopen a snoozed ticket and tell its assignee (an @mention note: their console shows
    it). Does nothing when the snooze was changed or ended since (a later snooze has its own
    task; a customer reply already reopened the ticket)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (Snooze.objects.select_for_update(of=("self",)).select_related("ticket__assignee")
               .filter(ticket_id=ticket_id).first())
        if row is None or row.until.isoformat() != until_iso or row.until > now:
            return False
        ticket = row.ticket
        row.delete()
        if ticket.status != Ticket.Status.PENDING:
            return False
        actor = Actor(_("Snooze"))
        services.set_status(ticket, Ticket.Status.OPEN, actor=actor)
        who = f"@{ticket.assignee.get_username()} " if ticket.assignee else ""
        services.note_with_mentions(ticket, author=None, text=_("%(who)sSnooze ended: this ticket is open again.")
                                    % {"who": who})
    return True


def auto_close(now=None) -> int:
    """Close solved tickets untouched for HELPDESK_ROUTING_AUTO_CLOSE_DAYS days (0: never).
    Each in its own transaction, through services (an event each, like an agent's close)."""
    days = getattr(settings, "HELPDESK_ROUTING_AUTO_CLOSE_DAYS", 0)
    if not days:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    actor, closed = Actor(_("Auto-close")), 0
    for ticket in Ticket.objects.filter(status=Ticket.Status.SOLVED, updated_at__lt=cutoff).order_by("pk")[:1000]:
        services.set_status(ticket, Ticket.Status.CLOSED, actor=actor)
        closed += 1
    if closed:
        log.info("auto-closed %d solved tickets", closed)
    return closed


def ensure_sweep() -> None:
    """Keep one future sweep queued (each sweep queues the next)."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from routing.tasks import sweep

    if not DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=sweep.module_path).exists():
        seconds = getattr(settings, "HELPDESK_ROUTING_SWEEP_SECONDS", 60)
        sweep.using(run_after=timezone.now() + timedelta(seconds=seconds)).enqueue()
