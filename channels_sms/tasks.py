"""A status callback can overtake its own send: Twilio may report `sent` or `failed` before our
worker has recorded the MessageSid that messages.create returned. Such a callback names one of
our replies (status_callback carries ?message=<pk>) that is still queued; it is stored, so we
process the stored payload again a little later instead of losing the final status."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from tickets.models import InboundPayload, Message
from tickets.services.provider_requests import process_request, raw_request_of

MAX_ATTEMPTS = 5
DELAY_SECONDS = 5.0  # times the attempt number: 5, 10, 15, 20, 25 s (75 s in all)


def overtook_its_send(message_pk: str, message_sid: str) -> bool:
    """True when the callback names a reply of ours whose send is not recorded yet."""
    if not message_pk.isdigit() or not message_sid:
        return False
    if Message.objects.filter(external_id=message_sid, direction=Message.Direction.OUTBOUND).exists():
        return False
    return (Message.objects.filter(pk=int(message_pk), direction=Message.Direction.OUTBOUND,
                                   status=Message.Status.QUEUED)
            .filter(Q(external_id__isnull=True) | Q(external_id="")).exists())


def schedule_reprocess(payload_id: int, attempt: int = 1) -> None:
    delay = DELAY_SECONDS * attempt
    reprocess_status_callback.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(payload_id, attempt)


@task()
def reprocess_status_callback(payload_id: int, attempt: int = 1) -> str:
    payload = InboundPayload.objects.filter(pk=payload_id).first()
    if payload is None:
        return "gone"
    process_request(payload)
    sid = raw_request_of(payload).form().get("MessageSid", "")
    if Message.objects.filter(external_id=sid, direction=Message.Direction.OUTBOUND).exists():
        return "applied"
    if attempt < MAX_ATTEMPTS:
        schedule_reprocess(payload_id, attempt + 1)
        return "waiting"
    return "unknown"
