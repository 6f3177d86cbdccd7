"""The email adapter for mail read from a mailbox (HELPDESK_CHANNELS "email_mailbox").

Inbound it is the MTA pipe's parser (raw RFC 5322 bytes), plus the mailbox it came from in the
message's meta; new tickets get the mailbox's team. Outbound it is the email adapter's reply,
sent from the mailbox's address (its Reply-To token on that address) through the mailbox's SMTP
server or the configured mailer. The email channel stays the one seam for outbound mail.
"""

from __future__ import annotations

import dataclasses

from channels_email.adapter import MtaPipeAdapter
from mailboxes import smtp
from mailboxes.models import Mailbox
from tickets import services, sql
from tickets.channels import InboundMessage
from tickets.models import Message, Team
from tickets.services import IngestResult

MAILBOX_ADAPTERS = ("email_mailbox", "email_mailbox_history")


def _mailbox_id(raw) -> int | None:
    value = (raw.headers or {}).get("mailbox")
    return int(value) if str(value or "").isdigit() else None


def mailbox_of(message: Message) -> Mailbox | None:
    """The mailbox the customer last wrote to on this ticket."""
    meta = (Message.objects.filter(ticket_id=message.ticket_id, direction=Message.Direction.INBOUND,
                                   adapter__in=MAILBOX_ADAPTERS)
            .order_by("-pk").values_list("meta", flat=True).first()) or {}
    mailbox_id = meta.get("mailbox")
    return Mailbox.objects.filter(pk=mailbox_id).first() if mailbox_id else None


def _team_of(mailbox_id) -> Team | None:
    """The mailbox's team. Plain SQL: asked once per new ticket, and a first sync opens
    thousands (compiling an ORM query cost more than the rest of the ingest; tickets/sql.py)."""
    if not mailbox_id:
        return None
    found = sql.values(Mailbox, ("team_id",), id=int(mailbox_id))
    return sql.get(Team, id=found[0][0]) if found and found[0][0] is not None else None


class MailboxAdapter(MtaPipeAdapter):
    def parse(self, raw):
        items = super().parse(raw)
        mailbox_id = _mailbox_id(raw)
        if mailbox_id is None:
            return items
        return [dataclasses.replace(item, meta={**item.meta, "mailbox": mailbox_id})
                if isinstance(item, InboundMessage) else item for item in items]

    def after_ingest(self, results):
        super().after_ingest(results)
        for result in results:
            if isinstance(result, IngestResult) and result.ticket_created:
                team = _team_of(result.message.meta.get("mailbox"))
                if team is not None:
                    ticket = result.message.ticket
                    services.assign(ticket, assignee=ticket.assignee, team=team)

    def sender_for(self, message):
        mailbox = mailbox_of(message)
        if mailbox is None:
            return super().sender_for(message)
        backend = smtp.backend_for(mailbox) if mailbox.outgoing == Mailbox.Outgoing.SMTP else None
        return mailbox.address, backend
