"""Outbound media for Twilio (MMS, WhatsApp): Twilio fetches every MediaUrl itself, so the file
must be on a URL it can reach without our login. Each URL is signed for one attachment and
expires; only stored attachments of outbound SMS/WhatsApp messages are served this way, with
their stored type, never sniffed, never rendered by a browser as a page."""

from __future__ import annotations

from django.conf import settings
from django.core.signing import BadSignature, TimestampSigner
from django.http import FileResponse, Http404
from django.urls import reverse
from django.views.decorators.http import require_GET

from tickets.models import Attachment, Message

SALT = "channels_sms.media"
# Twilio fetches the media when the message is created; a send retried with backoff (capped
# at an hour per attempt) still finds its URLs valid.
MAX_AGE_SECONDS = 24 * 3600


def media_url(attachment: Attachment) -> str:
    token = TimestampSigner(salt=SALT).sign(str(attachment.pk))
    return f"{settings.HELPDESK_PUBLIC_URL}{reverse('twilio-media', args=[token])}"


@require_GET
def serve_media(request, token: str):
    try:
        pk = int(TimestampSigner(salt=SALT).unsign(token, max_age=MAX_AGE_SECONDS))
    except (BadSignature, ValueError):
        raise Http404 from None
    attachment = Attachment.objects.filter(
        pk=pk, state=Attachment.State.STORED, message__direction=Message.Direction.OUTBOUND,
        message__channel__in=("sms", "whatsapp")).first()
    if attachment is None:
        raise Http404
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type or "application/octet-stream",
                            filename=attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, max-age=3600"
    return response
