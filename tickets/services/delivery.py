"""Delivery status of outbound messages. Status only moves forward:
queued -> sent -> delivered -> read, or failed (from queued or sent) with the provider's error.
Repeated or out-of-order provider callbacks therefore never move a message backward."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tickets import events, queueing
from tickets.channels import (
    DeliveryUpdate,
    PermanentDeliveryError,
    TransientDeliveryError,
    get_adapter,
)
from tickets.event_bodies import status_data, ticket_data
from tickets.models import Identity, Message, Ticket
from tickets.queueing import Outcome
from tickets.services.inbound import apply_identity_signal
from tickets.services.outbound import ANSWERED, answer

log = logging.getLogger(__name__)

S = Message.Status
RANK = {S.QUEUED: 0, S.SENT: 1, S.DELIVERED: 2, S.FAILED: 2, S.READ: 3}
MAX_BACKOFF_SECONDS = 3600


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Delivery retries: a provider's Retry-After wins when longer, even past the cap."""
    return queueing.backoff(attempt, first=settings.HELPDESK_DELIVERY_BACKOFF_SECONDS,
                            cap=MAX_BACKOFF_SECONDS, retry_after=retry_after)


def deliver(message_id: int) -> Outcome:
    """Send one queued outbound message through its adapter (the deliver_message job).
    Permanent errors fail the message at once with the provider's reason; transient ones ask
    for a retry after a bounded backoff, until HELPDESK_DELIVERY_MAX_ATTEMPTS."""
    message = Message.objects.select_related("ticket", "identity", "customer").filter(pk=message_id).first()
    if message is None or message.status != Message.Status.QUEUED:
        return Outcome("skipped")  # already sent (a duplicate enqueue) or gone
    try:
        adapter = get_adapter(message.adapter or message.channel)
        provider_id = adapter.deliver(message)
    except PermanentDeliveryError as exc:
        mark_failed(message.pk, exc.code, exc.reason, recipient_opted_out=exc.opted_out)
        return Outcome("failed")
    except Exception as exc:
        transient = isinstance(exc, TransientDeliveryError)
        reason = exc.reason if transient else f"{type(exc).__name__}: {exc}"
        if not transient:
            log.exception("unexpected error delivering message %s", message.pk)
        attempts = record_attempt(message.pk, reason)
        if attempts >= settings.HELPDESK_DELIVERY_MAX_ATTEMPTS:
            mark_failed(message.pk, getattr(exc, "code", "") or "retries_exhausted",
                        f"{reason} (gave up after {attempts} attempts)")
            return Outcome("failed")
        return Outcome("retrying", retry_in=backoff(attempts, getattr(exc, "retry_after", None)))
    mark_sent(message.pk, provider_id)
    return Outcome("sent")


def _advance(message_id: int, status: str, *, external_id: str | None = None, error_code: str = "",
             error_message: str = "", timestamp=None) -> Message | None:
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("ticket").get(pk=message_id)
        if message.direction != Message.Direction.OUTBOUND:
            return None
        changed = []
        if external_id and not message.external_id:
            message.external_id, changed = external_id, ["external_id"]
        if RANK.get(status, -1) > RANK.get(message.status, 0):
            message.status = status
            changed.append("status")
            if status == S.FAILED:
                message.error_code, message.error_message = str(error_code)[:64], error_message
                changed += ["error_code", "error_message"]
                _unanswer(message)
            if timestamp is not None:
                message.meta.setdefault("status_times", {})[status] = timestamp.isoformat()
                changed.append("meta")
        if not changed:
            return message
        message.save(update_fields=changed)
        if "status" in changed:
            events.record("message.status", ticket=message.ticket, message=message, public=True,
                          data=status_data(message))
    return message


def _unanswer(message: Message) -> None:
    """A failed reply answered nobody: put back what it changed on the ticket (see
    outbound.answer). The customer waits again from when they started waiting, unless a later
    reply is on its way; the first response is the earliest other reply not failed, if any."""
    answered = message.meta.get(ANSWERED)
    if not answered:
        return
    ticket = Ticket.objects.select_for_update().get(pk=message.ticket_id)
    replies = (Message.objects.filter(ticket=ticket, direction=Message.Direction.OUTBOUND, meta__has_key=ANSWERED)
               .exclude(pk=message.pk).exclude(status=S.FAILED))
    fields = []
    if answered.get("first_response") and ticket.first_response_at is not None:
        ticket.first_response_at = replies.order_by("created_at").values_list("created_at", flat=True).first()
        fields.append("first_response_at")
    waited = parse_datetime(answered["waiting_since"]) if answered.get("waiting_since") else None
    if waited and not replies.filter(pk__gt=message.pk).exists() and (
            ticket.waiting_since is None or waited < ticket.waiting_since):
        ticket.waiting_since = waited
        fields.append("waiting_since")
    if fields:
        ticket.save(update_fields=[*fields, "updated_at"])
        events.record("ticket.updated", ticket=ticket, data={**ticket_data(ticket), "change": "reply_failed"})


def mark_sent(message_id: int, provider_id: str) -> Message | None:
    return _advance(message_id, S.SENT, external_id=provider_id or None)


def mark_failed(message_id: int, code: str, reason: str, *, recipient_opted_out: bool = False) -> Message | None:
    """`recipient_opted_out`: the provider refused because the recipient unsubscribed; their
    identity is marked opted out in the same transaction, as an inbound STOP would."""
    with transaction.atomic():
        message = _advance(message_id, S.FAILED, error_code=code, error_message=reason)
        if recipient_opted_out and message is not None and message.identity_id:
            identity = Identity.objects.select_for_update().get(pk=message.identity_id)
            if identity.opted_out_at is None:
                apply_identity_signal(identity, "opt_out", timezone.now())
    return message


def record_attempt(message_id: int, error: str) -> int:
    """Count a failed delivery attempt (the agent sees the last error while it retries)."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        attempts = int(message.meta.get("attempts", 0)) + 1
        message.meta["attempts"], message.meta["last_error"] = attempts, error
        message.save(update_fields=["meta"])
    return attempts


def apply_delivery_update(update: DeliveryUpdate) -> Message | None:
    """A provider's status callback, receipt or bounce. Unknown ids are logged and ignored:
    the payload itself stays stored, so it can be replayed once the send is recorded."""
    message_id = (Message.objects.filter(channel=update.channel, external_id=update.external_id,
                                         direction=Message.Direction.OUTBOUND)
                  .values_list("pk", flat=True).first())
    if message_id is None:
        log.info("delivery update for unknown %s message %s", update.channel, update.external_id)
        return None
    return _advance(message_id, update.status, error_code=update.error_code,
                    error_message=update.error_message, timestamp=update.timestamp)


def retry_delivery(message: Message, *, actor=None) -> Message:
    """The agent's retry button: the one move backward, failed -> queued, by explicit action."""
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("ticket").get(pk=message.pk)
        if message.status != S.FAILED:
            return message
        message.status, message.error_code, message.error_message = S.QUEUED, "", ""
        message.meta["attempts"] = 0
        if ANSWERED in message.meta:  # sent again, it answers the ticket again
            ticket = Ticket.objects.select_for_update().get(pk=message.ticket_id)
            message.meta[ANSWERED] = answer(ticket, timezone.now())
            ticket.save(update_fields=["waiting_since", "first_response_at", "updated_at"])
            events.record("ticket.updated", ticket=ticket, data=ticket_data(ticket))
        message.save(update_fields=["status", "error_code", "error_message", "meta"])
        queueing.later("deliver_message", message.pk)
        events.record("message.status", ticket=message.ticket, message=message, public=True,
                      data=status_data(message))
    return message
