"""Messages the helpdesk sends or files by itself, for apps built on `tickets` (surveys first).

`services.reply()` is an agent's reply: it sets first_response_at, clears waiting_since and
opens a new ticket. An automatic message must do none of that, or every figure built on those
fields would count it as the team answering. These services write the message and its event and
leave the ticket alone; the marker is tickets.automated."""

from __future__ import annotations

from django.db import transaction

from tickets import events, plainsql
from tickets.automated import AUTOMATED, FILED_ASIDE
from tickets.channels import InboundMessage
from tickets.models import Identity, Message, Ticket
from tickets.payloads import message_data
from tickets.queueing import later
from tickets.sanitize import sanitize_html


def send_automated(ticket: Ticket, *, identity: Identity, adapter_key: str, reason: str, text: str,
                   html: str = "", subject: str = "", meta: dict | None = None) -> Message:
    """Queue an outbound message marked `meta["automated"] = reason` on `identity` (which the
    caller chose, e.g. with route_reply) and deliver it after commit. The ticket's status,
    first_response_at and waiting_since are untouched."""

    with transaction.atomic():
        message = Message.objects.create(
            ticket=ticket, customer_id=ticket.customer_id, direction=Message.Direction.OUTBOUND,
            channel=identity.channel, adapter=adapter_key, identity=identity, author=None,
            subject=subject[:300], text=text, html=sanitize_html(html), status=Message.Status.QUEUED,
            meta={**(meta or {}), AUTOMATED: reason},
        )
        later("deliver_message", message.pk)
        events.record("message.created", ticket=ticket, message=message, public=True,
                      data=message_data(message, []))
    return message


def automated_note(ticket: Ticket, *, reason: str, author_name: str, text: str) -> Message:
    """A line in the ticket's timeline for agents only, written by the helpdesk itself (why a
    survey was not sent, what the customer rated): an internal note marked automated, which
    leaves the ticket's status and times alone."""
    with transaction.atomic():
        message = Message.objects.create(
            ticket=ticket, customer_id=ticket.customer_id, direction=Message.Direction.NOTE, channel="note",
            author=None, author_name=author_name[:200], text=text, status=Message.Status.SENT,
            meta={AUTOMATED: reason},
        )
        events.record("message.created", ticket=ticket, message=message, public=False,
                      data=message_data(message, []))
    return message


def file_aside(msg: InboundMessage, identity: Identity, ticket: Ticket, *, meta: dict) -> Message:
    """Store a customer message an inbound hook consumed (a survey answer) on `ticket`, visible
    in its timeline, without reopening it or making the customer "waiting". Runs inside
    ingest's transaction, so (channel, external_id) keeps a replayed webhook to one row."""
    message = plainsql.insert(Message(
        ticket=ticket, customer_id=ticket.customer_id, direction=Message.Direction.INBOUND,
        channel=msg.channel, adapter=msg.adapter_key, identity=identity,
        author_name=msg.sender_name or identity.display_name or identity.address,
        text=msg.text, external_id=msg.external_id, status=Message.Status.RECEIVED,
        provider_timestamp=msg.timestamp, meta={**msg.meta, **meta, FILED_ASIDE: True},
    ))
    events.record("message.created", ticket=ticket, message=message, public=True,
                  data=message_data(message, []))
    return message


def set_identity_flag(identity_id: int, key: str, value) -> None:
    """A small marker on an identity that an inbound hook reads for free (the identity row is
    loaded by ingest anyway); None removes it. No event: nothing a person sees changes."""
    with transaction.atomic():
        identity = Identity.objects.select_for_update().filter(pk=identity_id).first()
        if identity is None:
            return
        if value is None:
            if key not in identity.meta:
                return
            identity.meta.pop(key)
        else:
            identity.meta[key] = value
        Identity.objects.filter(pk=identity_id).update(meta=identity.meta)
