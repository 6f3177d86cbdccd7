"""Attachments: stored with their message (ingest, an agent's reply), and provider-hosted media
finished when its background download (services.media) comes back."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction

from tickets import events, sql
from tickets.event_bodies import message_data
from tickets.files import AttachmentRejected, check_size, normalise_filename
from tickets.models import Attachment, Message
from tickets.queueing import later


def store_attachments(message: Message, inbound) -> list[Attachment]:
    """Attachment rows for a new message's InboundAttachments: content in hand is stored now
    (or refused by size, recorded on the row), a provider URL is fetched in the background
    after commit (fetch_attachment)."""
    stored = []
    for item in inbound:
        name = normalise_filename(item.filename, item.content_type)
        attachment = Attachment(message=message, filename=name, content_type=item.content_type[:255],
                                content_id=item.content_id.strip("<>")[:255], inline=item.inline)
        if item.content is not None:
            try:
                check_size(len(item.content))
            except AttachmentRejected as exc:
                attachment.state, attachment.error = Attachment.State.FAILED, str(exc)
            else:
                attachment.size = len(item.content)
                attachment.file.save(name, ContentFile(item.content), save=False)
        else:
            attachment.source_url, attachment.state = item.url, Attachment.State.PENDING
        sql.insert(attachment)
        stored.append(attachment)
    for attachment in stored:
        if attachment.state == Attachment.State.PENDING:
            later("fetch_attachment", attachment.pk)
    return stored


def store_attachment_content(attachment_id: int, content: bytes | None, error: str = "") -> Attachment:
    """Finish a background media download (or record why it failed)."""
    with transaction.atomic():
        attachment = Attachment.objects.select_for_update().select_related("message__ticket").get(pk=attachment_id)
        if attachment.state == Attachment.State.STORED:
            return attachment
        if content is not None:
            try:
                check_size(len(content))
            except AttachmentRejected as exc:
                content, error = None, str(exc)
        if content is not None:
            attachment.file.save(attachment.filename, ContentFile(content), save=False)
            attachment.size, attachment.state, attachment.error = len(content), Attachment.State.STORED, ""
        else:
            attachment.state, attachment.error = Attachment.State.FAILED, error
        attachment.save()
        message = attachment.message
        events.record("message.updated", ticket=message.ticket, message=message, public=True,
                      data=message_data(message))
    return attachment
