"""What a visitor can do, as plain synchronous functions (the socket and the HTTP views call
these): send a message, leave contact details, read their conversation, ask for a transcript.
Every write to the ticket model goes through tickets.services."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from livechat import visitors
from livechat.models import VisitorSession
from tickets import events, services
from tickets.channels import InboundAttachment, InboundMessage, ThreadHints
from tickets.event_bodies import message_data
from tickets.models import Attachment, Message, Ticket
from tickets.services.participants import add_participant

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200


class Refused(Exception):
    """A visitor request we turn down; `reason` is shown in the widget as is."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason, self.status = reason, status


def external_id(session: VisitorSession, client_id: str) -> str:
    # Namespaced by session: one visitor's client ids can never collide with another's.
    return f"chat:{session.key}:{client_id}"


def clean_client_id(client_id) -> str:
    client_id = str(client_id or "").strip()
    if not client_id or len(client_id) > 64 or not all(c.isalnum() or c in "-_" for c in client_id):
        raise Refused(_("Invalid message id."))
    return client_id


def send(session: VisitorSession, client_id: str, text: str,
         attachments: tuple[InboundAttachment, ...] = (), language: str = "") -> Message:
    """The visitor's message enters the helpdesk. Idempotent on client_id: a resend after a
    dropped connection returns the stored message and publishes nothing. `language`: the
    browser's Accept-Language (the ticket's language, tickets.language)."""
    client_id = clean_client_id(client_id)
    if text is not None and not isinstance(text, str):
        raise Refused(_("The message must be text."))
    inbox = session.inbox
    if inbox.prechat_enabled and inbox.prechat_require_email and not session.email:
        # The widget asks first; a script talking to the socket or the upload API directly
        # must not get past the inbox's rule either.
        raise Refused(_("Please leave your email address before starting the chat."), status=403)
    text = (text or "").strip()
    if not text and not attachments:
        raise Refused(_("The message is empty."))
    if len(text) > settings.LIVECHAT_MAX_MESSAGE_CHARS:
        raise Refused(_("The message is too long (at most %(n)s characters).")
                      % {"n": settings.LIVECHAT_MAX_MESSAGE_CHARS})
    # One transaction: the chat address's conversation row commits with the ticket's events, so
    # their bell (rung after commit) never reaches another tab of this visitor before the row
    # does. That tab does not know a new ticket yet and reads the log, whose scope is this row:
    # read before the row committed, it found nothing and moved past the ticket's first message.
    with transaction.atomic():
        result = services.ingest(InboundMessage(
            channel="chat", adapter="chat", external_id=external_id(session, client_id),
            sender=session.address, sender_name=session.name, text=text, attachments=attachments,
            hints=ThreadHints(session=session.address),
            meta={"inbox": session.inbox.key, "client_id": client_id, "page": session.page_url,
                  **({"language": language[:100]} if language else {})},
            recipient=session.inbox.key,
        ))
        ticket = result.message.ticket
        if visitors.remember_ticket(session.address, ticket.pk):
            if session.email:
                add_participant(ticket, "email", session.email)
            # A new ticket: ring every open socket of this chat address (other tabs, the user's
            # other devices, the socket of a page that uploaded over HTTP) so they read it and
            # join it (after commit, like every ring).
            services.wake_listeners([visitors.address_group(session.address)])
    return result.message


def set_contact(session: VisitorSession, name: str = "", email: str = "") -> VisitorSession:
    """Pre-chat form / offline form. The email is contact information only: it lets agent
    replies reach a visitor who left, and lets their email reply join the chat's ticket."""
    name, email = (name or "").strip()[:200], (email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise Refused(_("Please enter a valid email address.")) from exc
    changes = {}
    if name:
        changes["name"] = name
    if email:
        changes["email"] = email
    if changes:
        VisitorSession.objects.filter(address=session.address).update(**changes)
        for key, value in changes.items():
            setattr(session, key, value)
    if email:
        for ticket in Ticket.objects.filter(pk__in=visitors.ticket_ids(session.address)):
            add_participant(ticket, "email", email)
    return session


def history(session: VisitorSession) -> dict:
    """The conversation so far and the seq to resume from (read first, so nothing is missed)."""
    return history_and_owners(session)[0]


def history_and_owners(session: VisitorSession) -> tuple[dict, dict[int, int]]:
    """history(), and the customer of each of the visitor's tickets as read after its seq
    (visitors.ticket_owners: the same one query that finds the tickets)."""
    seq = events.current_seq()
    owners = visitors.ticket_owners(session.address)
    rows = (Message.objects.filter(ticket_id__in=list(owners))
            .exclude(direction=Message.Direction.NOTE)
            .prefetch_related("attachments").order_by("-created_at", "-pk")[:HISTORY_LIMIT])
    return {"seq": seq, "messages": [public_message(m) for m in reversed(rows)]}, owners


def public_message(message: Message, data: dict | None = None) -> dict:
    """What a visitor may know of a message: no internal ids of agents, no error details."""
    data = data or message_data(message)
    return {
        "id": data["id"], "ticket": data["ticket"], "direction": data["direction"],
        "author": data["author"] if data["direction"] == "outbound" else "",
        "text": data["text"], "status": data["status"], "created_at": data["created_at"],
        "client_id": (message.meta or {}).get("client_id") if message else None,
        "attachments": [{"id": a["id"], "filename": a["filename"], "content_type": a["content_type"],
                         "size": a["size"], "state": a["state"]} for a in data["attachments"]],
    }


def visible_attachment(session: VisitorSession, attachment_id: int) -> Attachment:
    attachment = (Attachment.objects.select_related("message")
                  .filter(pk=attachment_id, message__ticket_id__in=visitors.ticket_ids(session.address))
                  .exclude(message__direction=Message.Direction.NOTE).first())
    if attachment is None or attachment.state != Attachment.State.STORED or not attachment.file:
        raise Refused(_("No such file."), status=404)
    return attachment


def request_transcript(session: VisitorSession, email: str = "") -> str:
    if email:
        set_contact(session, email=email)
    if not session.email:
        raise Refused(_("Please enter your email address first."))
    if not visitors.ticket_ids(session.address):
        raise Refused(_("There is no conversation to send yet."))
    from livechat.tasks import send_transcript

    send_transcript.enqueue(session.pk)
    return session.email
