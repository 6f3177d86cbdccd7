"""Email for visitors who are not on the page: an agent's reply when they left, and the
transcript they asked for. Sent with Django's mail API (EMAIL_BACKEND)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from livechat import visitors
from livechat.models import VisitorSession
from tickets.channels import adapters_for_channel, get_adapter
from tickets.models import Message


def _reply_to() -> str:
    return settings.LIVECHAT_REPLY_TO or settings.DEFAULT_FROM_EMAIL


def send_offline_reply(message: Message, email: str) -> str:
    """The agent's chat reply, by email. Returns the Message-ID we minted.

    With an email channel configured, its adapter sends it (`send_about_ticket`: the Message-ID
    and Reply-To carry its HMAC threading token for this ticket, so the visitor's email reply is
    threaded back into the chat's ticket, whose participant the address is:
    conversation.set_contact). Without one, plain headers through Django's mail API."""
    ticket = message.ticket
    body = render_to_string("livechat/offline_reply.txt", {"message": message, "ticket": ticket})
    subject = _("Re: %(subject)s [#%(ticket)s]") % {"subject": ticket.subject or _("Your chat"),
                                                   "ticket": ticket.pk}
    send_about_ticket = _email_sender()
    if send_about_ticket is not None:  # raises the classified Permanent/TransientDeliveryError
        return send_about_ticket(ticket.pk, key=f"chat{message.pk}", subject=subject, body=body, to=[email],
                                 author_name=message.author_name)
    msgid = make_msgid(domain=_reply_to().rsplit("@", 1)[-1])
    EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email],
                 reply_to=[_reply_to()], headers={"Message-ID": msgid}).send()
    return msgid


def _email_sender():
    """The default email adapter's `send_about_ticket`, when an email channel is configured (a
    channel app never imports another: it goes through the adapter, as tickets does)."""
    keys = adapters_for_channel("email")
    return getattr(get_adapter(keys[0]), "send_about_ticket", None) if keys else None


def send_transcript(session: VisitorSession) -> int:
    messages = list(Message.objects.filter(ticket_id__in=visitors.ticket_ids(session.address))
                    .exclude(direction=Message.Direction.NOTE).prefetch_related("attachments")
                    .order_by("created_at", "pk"))
    body = render_to_string("livechat/transcript.txt", {"messages": messages, "session": session})
    EmailMessage(subject=_("Your chat transcript: %(inbox)s") % {"inbox": session.inbox},
                 body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[session.email],
                 reply_to=[_reply_to()], headers={"Auto-Submitted": "auto-generated"}).send()
    return len(messages)
