"""Routing's background work (django.tasks): the routing pass, the periodic sweep (auto-close,
late assignment), snooze wake-ups and rule webhooks."""

from __future__ import annotations

import json
import logging
import uuid

from django.tasks import task
from django.utils import timezone

log = logging.getLogger(__name__)


@task()
def route() -> dict:
    from routing.engine import run_pass

    return run_pass()


@task()
def call_webhook(url: str, rule_id: int, ticket_id: int) -> int:
    """A rule's webhook: one signed POST through the outgoing-webhook sender (SSRF-checked,
    pinned address, bounded). A failure is logged with the rule; it is not retried."""
    from django.conf import settings

    from integrations import sender
    from tickets.event_bodies import ticket_data
    from tickets.models import Ticket

    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return 0
    body = json.dumps({"type": "routing.rule", "rule": rule_id, "ticket": ticket_data(ticket),
                       "sent_at": timezone.now().isoformat()}).encode()
    try:
        attempt = sender.post(url=url, secret=settings.SECRET_KEY, delivery_id=str(uuid.uuid4()),
                              event_type="routing.rule", body=body)
    except Exception as exc:  # noqa: BLE001 - an unreachable URL is the rule's problem, logged
        log.warning("rule %s webhook to %s failed: %r", rule_id, url, exc)
        return 0
    if not attempt.ok:
        log.warning("rule %s webhook to %s answered %s", rule_id, url, attempt.status_code)
    return attempt.status_code


@task()
def wake(ticket_id: int, until_iso: str) -> bool:
    from routing.schedule import wake_up

    return wake_up(ticket_id, until_iso)


@task()
def sweep() -> dict:
    """Periodic: auto-close, then a routing pass (late assignment); queues the next sweep."""
    from routing.engine import run_pass
    from routing.schedule import auto_close, ensure_sweep

    closed = auto_close()
    totals = run_pass()
    ensure_sweep()
    return {"closed": closed, **totals}
