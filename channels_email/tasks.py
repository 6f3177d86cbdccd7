"""Background work of the email channel."""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

from channels_email import outbound, tokens
from channels_email.models import Acknowledgement
from tickets.channels import ChannelError
from tickets.models import Message

log = logging.getLogger(__name__)


@task()
def send_acknowledgement(message_id: int) -> str:
    """Tell a customer we opened their ticket. Marked `Auto-Submitted: auto-replied` (RFC 3834)
    so well-behaved autoresponders don't answer it; one per sender per day."""
    message = Message.objects.select_related("ticket", "identity").filter(pk=message_id).first()
    if message is None or message.identity is None:
        return "skipped"
    ticket, address = message.ticket, message.identity.address
    msgid = tokens.message_id(ticket.pk)
    try:
        with transaction.atomic():  # a savepoint: the losing insert must not break the caller
            record = Acknowledgement.objects.create(address=address, day=timezone.localdate(),
                                                    ticket_id=ticket.pk, message_id=msgid)
    except IntegrityError:
        return "already acknowledged today"
    headers = {"Message-ID": msgid, "Reply-To": tokens.reply_address(ticket.pk),
               "Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if message.external_id:
        headers["In-Reply-To"] = headers["References"] = message.external_id
    mail = EmailMessage(subject=outbound.subject_for(ticket, message.subject),
                        body=render_to_string("email/acknowledgement.txt", {"ticket": ticket}),
                        from_email=outbound.sender_address(), to=[address], headers=headers)
    try:
        outbound.send(mail)
    except ChannelError as exc:
        record.delete()  # not sent: a later message may try again
        log.warning("acknowledgement for ticket %s to %s failed: %s", ticket.pk, address, exc.reason)
        return "failed"
    return "sent"
