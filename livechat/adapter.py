"""The "chat" channel adapter. Visitor messages do not come through webhooks (the visitor socket
hands them to services.ingest), so this adapter only delivers agent replies: the widget already
receives them through the event log, so a reply is "sent" as soon as it is stored; when the
visitor has left the page, it also goes by email to the contact address they gave."""

from __future__ import annotations

import logging

from livechat import mail, visitors
from tickets.channels import BaseAdapter, PermanentDeliveryError, TransientDeliveryError

log = logging.getLogger(__name__)


class ChatAdapter(BaseAdapter):
    channel = "chat"

    def deliver(self, message) -> str:
        address = message.identity.address if message.identity else ""
        provider_id = f"chat-{message.pk}"
        if not address or visitors.is_here(address):
            return provider_id
        email = visitors.contact_email(address) or _participant_email(message.ticket)
        if not email:
            # Nobody to email: the reply waits in the widget for the visitor's next visit.
            return provider_id
        try:
            msgid = mail.send_offline_reply(message, email)
        except ValueError as exc:  # a header Django refuses (newlines in the address...)
            raise PermanentDeliveryError(f"cannot email {email}: {exc}", code="bad-address") from exc
        except OSError as exc:  # SMTP down, DNS, refused connection: worth retrying
            raise TransientDeliveryError(f"email to {email} failed: {exc}", code="smtp") from exc
        log.info("chat reply %s emailed to %s (visitor offline) as %s", message.pk, email, msgid)
        return provider_id


def _participant_email(ticket) -> str:
    for channel, address in reversed(ticket.meta.get("participants", [])):
        if channel == "email":
            return address
    return ""
