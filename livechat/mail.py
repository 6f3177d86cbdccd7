"""Email for visitors who are not on the page: an agent's reply when they left, and the
transcript they asked for. Sent with Django's mail API (EMAIL_BACKEND)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from livechat import visitors
from livechat.models import VisitorSession
from tickets.models import Message


def _reply_to() -> str:
    return settings.LIVECHAT_REPLY_TO or settings.DEFAULT_FROM_EMAIL


def send_offline_reply(message: Message, email: str) -> str:
    """The agent's chat reply, by email. Returns the Message-ID we minted.

    With the email channel installed, the Message-ID and Reply-To carry its HMAC threading token
    for this ticket, so the visitor's email reply is threaded back into the chat's ticket (the
    address is a participant of it: conversation.set_contact). Without it, plain headers."""
    ticket = message.ticket
    body = render_to_string("livechat/offline_reply.txt", {"message": message, "ticket": ticket})
    subject = _("Re: %(subject)s [#%(ticket)s]") % {"subject": ticket.subject or _("Your chat"),
                                                   "ticket": ticket.pk}
    if apps.is_installed("channels_email"):
        from channels_email import outbound, tokens

        msgid = tokens.message_id(ticket.pk, f"chat{message.pk}")
        mail = EmailMessage(subject=subject, body=body, from_email=outbound.sender_address(message.author_name),
                            to=[email], headers={"Message-ID": msgid, "Reply-To": tokens.reply_address(ticket.pk)})
        outbound.send(mail)  # raises the classified Permanent/TransientDeliveryError
        return msgid
    msgid = make_msgid(domain=_reply_to().rsplit("@", 1)[-1])
    EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email],
                 reply_to=[_reply_to()], headers={"Message-ID": msgid}).send()
    return msgid


def send_transcript(session: VisitorSession) -> int:
    messages = list(Message.objects.filter(ticket_id__in=visitors.ticket_ids(session.address))
                    .exclude(direction=Message.Direction.NOTE).prefetch_related("attachments")
                    .order_by("created_at", "pk"))
    body = render_to_string("livechat/transcript.txt", {"messages": messages, "session": session})
    EmailMessage(subject=_("Your chat transcript: %(inbox)s") % {"inbox": session.inbox},
                 body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[session.email],
                 reply_to=[_reply_to()], headers={"Auto-Submitted": "auto-generated"}).send()
    return len(messages)
