"""Provider-hosted media (WhatsApp, MMS, Messenger attachments) downloaded in the background, so
the message text never waits for it: the fetch_attachment job runs download_attachment()."""

from __future__ import annotations

import logging

from django.conf import settings

from tickets.channels import PermanentDeliveryError, get_adapter
from tickets.models import Attachment
from tickets.queueing import Outcome
from tickets.services.attachments import store_attachment_content
from tickets.services.delivery import backoff

log = logging.getLogger(__name__)


def download_attachment(attachment_id: int, attempt: int = 1) -> Outcome:
    """Fetch one pending attachment through its message's adapter and store it; a failure is
    retried with the delivery backoff, then recorded on the attachment as its error."""
    attachment = Attachment.objects.select_related("message").filter(pk=attachment_id).first()
    if attachment is None or attachment.state != Attachment.State.PENDING:
        return Outcome("skipped")
    try:
        content = get_adapter(attachment.message.adapter or attachment.message.channel).fetch_attachment(attachment)
    except PermanentDeliveryError as exc:
        store_attachment_content(attachment.pk, None, exc.reason)
        return Outcome("failed")
    except Exception as exc:
        log.warning("media download for attachment %s failed (attempt %s): %s", attachment.pk, attempt, exc)
        if attempt >= settings.HELPDESK_DELIVERY_MAX_ATTEMPTS:
            store_attachment_content(attachment.pk, None, f"download failed: {exc}")
            return Outcome("failed")
        return Outcome("retrying", retry_in=backoff(attempt))
    store_attachment_content(attachment.pk, content)
    return Outcome("stored")
