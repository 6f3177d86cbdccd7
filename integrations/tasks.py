"""Fan an event out to the endpoints that want it, and deliver each with retries (django.tasks).

fan_out_event(seq) creates one WebhookDelivery per matching endpoint (unique per endpoint and
event, so running it twice creates nothing twice) and enqueues send_delivery for each.
send_delivery makes one attempt; on failure it re-enqueues itself with exponential backoff
(`.using(run_after=...)`) until HELPDESK_WEBHOOKS_MAX_ATTEMPTS, then gives up. Deliveries are
independent: receivers order events by `event_id` (the event log's seq), not arrival."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.sender import post
from integrations.ssrf import ResolutionFailed, UnsafeDestination
from tickets import queueing
from tickets.models import Event, Message

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 6 * 3600
LOG_LINES = 20


def envelope(event: Event) -> dict:
    return {
        "type": event.kind,
        "event_id": event.seq,
        "created_at": event.created_at.isoformat(),
        "ticket": event.ticket_id,
        "customer": event.customer_id,
        "data": event.data,
    }


def _is_internal(event: Event) -> bool:
    return event.message is not None and event.message.direction == Message.Direction.NOTE


# Fields of an event's data that are internal notes in all but name: the customer profile's
# notes are written by agents for agents, like a note on a ticket.
INTERNAL_FIELDS = {"customer.updated": "notes"}


def _without_notes(event: Event) -> dict | None:
    """The envelope for endpoints that exclude internal notes, or None when the event is only
    about notes (nothing left to tell them)."""
    field = INTERNAL_FIELDS.get(event.kind)
    if field is None:
        return envelope(event)
    data = {k: v for k, v in (event.data or {}).items() if k != field}
    if "changed" in data:
        data["changed"] = [name for name in data["changed"] if name != field]
        if not data["changed"]:
            return None
    return {**envelope(event), "data": data}


@task()
def fan_out_event(seq: int) -> int:
    event = Event.objects.select_related("message").filter(seq=seq).first()
    if event is None:
        return 0  # pruned before the worker got to it
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.wants(event.kind)]
    if _is_internal(event):
        endpoints = [e for e in endpoints if e.include_notes]
    full, redacted = envelope(event), _without_notes(event)
    bodies = {include: json.dumps(item, separators=(",", ":"), ensure_ascii=False) if item else None
              for include, item in ((True, full), (False, redacted))}
    created = 0
    for endpoint in endpoints:
        body = bodies[endpoint.include_notes]
        if body is None:
            continue
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_seq=seq,
                                                          event_type=event.kind, body=body)
                transaction.on_commit(lambda pk=str(delivery.pk): send_delivery.enqueue(pk), robust=True)
        except IntegrityError:
            continue  # this event already went to this endpoint (a repeated fan-out)
        created += 1
    return created


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Webhook retries: a receiver's Retry-After is honoured up to the cap, never beyond."""
    delay = queueing.backoff(attempt, first=settings.HELPDESK_WEBHOOKS_BACKOFF_SECONDS,
                             cap=MAX_BACKOFF_SECONDS, retry_after=retry_after)
    return min(delay, MAX_BACKOFF_SECONDS)


@task()
def send_delivery(delivery_id: str) -> str:
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.state != WebhookDelivery.State.PENDING:
        return "skipped"
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        _finish(delivery, WebhookDelivery.State.FAILED, error="endpoint disabled")
        return "failed"
    started = time.monotonic()
    status_code, error, retry_after, permanent = None, "", None, False
    try:
        attempt = post(url=endpoint.url, secret=endpoint.secret, delivery_id=str(delivery.pk),
                       event_type=delivery.event_type, body=delivery.body.encode())
    except UnsafeDestination as exc:
        error, permanent = f"refused: {exc}", True
    except (ResolutionFailed, httpx.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    else:
        status_code, retry_after = attempt.status_code, attempt.retry_after
        if not attempt.ok:
            error = f"HTTP {attempt.status_code}: {attempt.response[:500]}"
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = status_code, error
    delivery.log = [*delivery.log, {
        "at": timezone.now().isoformat(), "status": status_code, "error": error[:500],
        "ms": round((time.monotonic() - started) * 1000),
    }][-LOG_LINES:]
    if not error:
        _finish(delivery, WebhookDelivery.State.SUCCEEDED)
        return "delivered"
    if permanent or delivery.attempts >= settings.HELPDESK_WEBHOOKS_MAX_ATTEMPTS:
        log.warning("webhook delivery %s to %s failed for good: %s", delivery.pk, endpoint.url, error)
        _finish(delivery, WebhookDelivery.State.FAILED)
        return "failed"
    run_after = timezone.now() + timedelta(seconds=backoff(delivery.attempts, retry_after))
    delivery.next_attempt_at = run_after
    delivery.save(update_fields=["attempts", "last_status_code", "last_error", "log", "next_attempt_at"])
    send_delivery.using(run_after=run_after).enqueue(str(delivery.pk))
    return "retrying"


def _finish(delivery: WebhookDelivery, state: str, error: str | None = None) -> None:
    delivery.state, delivery.next_attempt_at = state, None
    if error is not None:
        delivery.last_error = error
    if state == WebhookDelivery.State.SUCCEEDED:
        delivery.delivered_at = timezone.now()
    delivery.save()


def retry_now(delivery: WebhookDelivery) -> None:
    """The admin's "retry" action: a failed delivery gets a fresh round of attempts, same id."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.PENDING, attempts=0, next_attempt_at=None)
    transaction.on_commit(lambda: send_delivery.enqueue(str(delivery.pk)), robust=True)
