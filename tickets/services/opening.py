"""Opening a ticket from our side: an agent or an integration starts the conversation
(an outbound-first ticket: "your order is delayed", a CRM task turned into a ticket)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from tickets import events
from tickets.addresses import normalise_address
from tickets.event_bodies import ticket_data
from tickets.models import Customer, Identity, Ticket
from tickets.services.inbound import resolve_identity
from tickets.services.outbound import ReplyRefused, note, reply


def open_ticket(customer: Customer | None, *, actor, to: tuple[str, str, str] | None = None,
                subject: str = "", channel: str | None = None,
                text: str = "", html: str = "", internal_note: str = "", priority: int | None = None,
                assignee=None, team=None, client_id: str | None = None) -> Ticket:
    """Create a ticket for `customer` and, in the same transaction, its first outbound message
    (`text`, delivered after commit like any reply) and/or an internal note.

    `to` = (channel, address, name) instead of a customer: the address is normalised and its
    identity found, or created with a new customer (as a first inbound message would).

    All or nothing: when the message is refused (no address on that channel, opted out, no
    adapter) ReplyRefused is raised and no ticket is left behind."""
    if to is not None:
        channel = channel or to[0]
        address = normalise_address(to[0], to[1])  # ValueError for a malformed address
    elif customer.merged_into_id:
        raise ReplyRefused(_("This customer was merged into customer %(id)s.") % {"id": customer.merged_into_id})
    if priority is not None and int(priority) not in Ticket.Priority.values:
        raise ValueError(f"unknown priority {priority!r}")
    channel = channel or _latest_channel(customer)
    if not channel:
        raise ReplyRefused(_("This customer has no address to write to."))
    with transaction.atomic():
        if to is not None:
            customer = resolve_identity(to[0], address, to[2]).customer
        ticket = Ticket.objects.create(
            customer=customer, subject=subject[:300], channel=channel, assignee=assignee, team=team,
            priority=Ticket.Priority.NORMAL if priority is None else int(priority),
        )
        events.record("ticket.created", ticket=ticket, data=ticket_data(ticket))
        if (text or "").strip():
            reply(ticket, author=actor, text=text, html=html, channel=channel, client_id=client_id,
                  subject=subject)
        if (internal_note or "").strip():
            note(ticket, author=actor, text=internal_note)
        ticket.refresh_from_db()
    return ticket


def _latest_channel(customer: Customer) -> str:
    identity = (Identity.objects.filter(customer=customer, opted_out_at__isnull=True)
                .order_by(F("last_inbound_at").desc(nulls_last=True), "-pk").first())
    return identity.channel if identity else ""
