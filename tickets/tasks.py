"""Background work (django.tasks API; the django-tasks-db backend in both run modes)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from tickets import queueing, services
from tickets.channels import PermanentDeliveryError, TransientDeliveryError, get_adapter
from tickets.models import Attachment, Message

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Delivery retries: a provider's Retry-After wins when longer, even past the cap."""
    return queueing.backoff(attempt, first=settings.HELPDESK_DELIVERY_BACKOFF_SECONDS,
                            cap=MAX_BACKOFF_SECONDS, retry_after=retry_after)


@task()
def deliver_message(message_id: int) -> str:
    """Send one queued outbound message through its adapter. Permanent errors fail the message
    at once with the provider's reason; transient ones retry with bounded backoff."""
    message = Message.objects.select_related("ticket", "identity", "customer").filter(pk=message_id).first()
    if message is None or message.status != Message.Status.QUEUED:
        return "skipped"  # already sent (a duplicate enqueue) or gone
    try:
        adapter = get_adapter(message.adapter or message.channel)
        provider_id = adapter.deliver(message)
    except PermanentDeliveryError as exc:
        services.mark_failed(message.pk, exc.code, exc.reason, recipient_opted_out=exc.opted_out)
        return "failed"
    except Exception as exc:
        transient = isinstance(exc, TransientDeliveryError)
        reason = exc.reason if transient else f"{type(exc).__name__}: {exc}"
        if not transient:
            log.exception("unexpected error delivering message %s", message.pk)
        attempts = services.record_attempt(message.pk, reason)
        if attempts >= settings.HELPDESK_DELIVERY_MAX_ATTEMPTS:
            services.mark_failed(message.pk, getattr(exc, "code", "") or "retries_exhausted",
                                 f"{reason} (gave up after {attempts} attempts)")
            return "failed"
        delay = backoff(attempts, getattr(exc, "retry_after", None))
        deliver_message.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(message.pk)
        return "retrying"
    services.mark_sent(message.pk, provider_id)
    return "sent"


@task()
def fetch_attachment(attachment_id: int, attempt: int = 1) -> str:
    """Download provider-hosted media in the background; the message text never waits for it."""
    attachment = Attachment.objects.select_related("message").filter(pk=attachment_id).first()
    if attachment is None or attachment.state != Attachment.State.PENDING:
        return "skipped"
    try:
        content = get_adapter(attachment.message.adapter or attachment.message.channel).fetch_attachment(attachment)
    except PermanentDeliveryError as exc:
        services.store_attachment_content(attachment.pk, None, exc.reason)
        return "failed"
    except Exception as exc:
        log.warning("media download for attachment %s failed (attempt %s): %s", attachment.pk, attempt, exc)
        if attempt >= settings.HELPDESK_DELIVERY_MAX_ATTEMPTS:
            services.store_attachment_content(attachment.pk, None, f"download failed: {exc}")
            return "failed"
        run_after = timezone.now() + timedelta(seconds=backoff(attempt))
        fetch_attachment.using(run_after=run_after).enqueue(attachment.pk, attempt + 1)
        return "retrying"
    services.store_attachment_content(attachment.pk, content)
    return "stored"
