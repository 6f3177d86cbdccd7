"""Background work of the email channel."""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.tasks import task
from django.template.loader import render_to_string

from channels_email import outbound, tokens
from channels_email.models import Acknowledgement
from tickets.channels import ChannelError
from tickets.models import Message

log = logging.getLogger(__name__)


@task()
def send_acknowledgement(message_id: int, ack_id: int) -> str:
    """Tell a customer we opened their ticket. Marked `Auto-Submitted: auto-replied` (RFC 3834)
    so well-behaved autoresponders don't answer it. `ack_id` is today's Acknowledgement for the
    sender, claimed at ingest (acks.claim): that row is the one-per-sender-per-day rule."""
    record = Acknowledgement.objects.filter(pk=ack_id).first()
    message = Message.objects.select_related("ticket", "identity").filter(pk=message_id).first()
    if record is None or message is None or message.identity is None:
        return "skipped"
    ticket, address = message.ticket, message.identity.address
    ours, backend = _sender_for(message)
    headers = {"Message-ID": record.message_id, "Reply-To": tokens.reply_address(ticket.pk, ours),
               "Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if message.external_id:
        headers["In-Reply-To"] = headers["References"] = message.external_id
    mail = EmailMessage(subject=outbound.subject_for(ticket, message.subject),
                        body=render_to_string("email/acknowledgement.txt", {"ticket": ticket}),
                        from_email=outbound.sender_address(address=ours), to=[address], headers=headers)
    try:
        outbound.send(mail, backend=backend)
    except ChannelError as exc:
        record.delete()  # not sent: a later message may try again
        log.warning("acknowledgement for ticket %s to %s failed: %s", ticket.pk, address, exc.reason)
        return "failed"
    return "sent"


def _sender_for(message) -> tuple[str, object | None]:
    """The address (and mail backend) of the adapter the message came through, e.g. a mailbox."""
    from tickets.channels import channel_config, get_adapter

    if message.adapter in channel_config():
        sender_for = getattr(get_adapter(message.adapter), "sender_for", None)
        if sender_for is not None:
            return sender_for(message)
    return "", None
