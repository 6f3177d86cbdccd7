"""Outbound: agent replies and internal notes, and the route a reply takes."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import events
from tickets.event_bodies import message_data, ticket_data
from tickets.models import Identity, Message, Ticket
from tickets.people import display_name
from tickets.queueing import later
from tickets.sanitize import sanitize_html
from tickets.services.attachments import store_attachments

log = logging.getLogger(__name__)

Status = Ticket.Status


class ReplyRefused(Exception):
    """The reply cannot be sent as asked; `reason` is shown to the agent as is."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class StaleReply(ReplyRefused):
    """New activity landed on the ticket after the agent's view: review before sending."""

    def __init__(self, events_since: list):
        super().__init__(_("New activity on this ticket: review it before sending."))
        self.events = events_since


def reply(ticket: Ticket, *, author, text: str, html: str = "", channel: str | None = None,
          client_id: str | None = None, subject: str = "", attachments=(), seen_seq: int | None = None,
          meta: dict | None = None) -> Message:
    """Store an agent's reply as `queued` and deliver it after commit.

    `client_id` makes a double-clicked or retried send one message. `seen_seq` is the last event
    the agent's tab rendered: if the customer or another agent wrote since, the reply is held
    (StaleReply) instead of being sent over it."""
    if client_id:
        existing = Message.objects.filter(ticket=ticket, client_id=client_id).first()
        if existing is not None:
            return existing
    if not (text or "").strip() and not attachments and not (meta or {}).get("template"):
        raise ReplyRefused(_("The reply is empty."))
    try:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().select_related("customer").get(pk=ticket.pk)
            if seen_seq is not None:
                _check_not_stale(ticket, author, seen_seq)
            identity, adapter_key = route_reply(ticket, channel)
            _add_cc_participants(ticket, identity, (meta or {}).get("cc") or [])
            now = timezone.now()
            answered = answer(ticket, now)
            message = Message.objects.create(
                ticket=ticket, customer=ticket.customer, direction=Message.Direction.OUTBOUND,
                channel=identity.channel, adapter=adapter_key, identity=identity, author=author,
                author_name=display_name(author), subject=subject[:300], text=text,
                html=sanitize_html(html), client_id=client_id, status=Message.Status.QUEUED,
                meta={**(meta or {}), ANSWERED: answered},
            )
            stored = store_attachments(message, attachments)
            if ticket.status == Status.NEW:
                ticket.status = Status.OPEN
            ticket.save(update_fields=["waiting_since", "first_response_at", "status", "meta", "updated_at"])
            later("deliver_message", message.pk)
            events.record_many(dict(kind="ticket.updated", ticket=ticket, data=ticket_data(ticket)),
                               dict(kind="message.created", ticket=ticket, message=message, public=True,
                                    data=message_data(message, stored)))
    except IntegrityError:
        # A concurrent send with the same client_id won.
        return Message.objects.get(ticket=ticket, client_id=client_id)
    return message


# Message.meta key: what a reply changed on its ticket, so a failed delivery can put it back.
ANSWERED = "answered"


def answer(ticket: Ticket, now) -> dict:
    """A reply answers the ticket: the customer stops waiting, and the first reply is the first
    response. Returns what it changed (the caller keeps it on the message, under ANSWERED);
    the caller saves the ticket."""
    changed = {"waiting_since": ticket.waiting_since.isoformat() if ticket.waiting_since else None,
               "first_response": ticket.first_response_at is None}
    ticket.waiting_since = None
    ticket.first_response_at = ticket.first_response_at or now
    return changed


def _add_cc_participants(ticket: Ticket, identity: Identity, cc: list) -> None:
    """Cc'd addresses stay on the ticket (as in Zendesk): the email adapter copies every
    participant, and their replies may join the ticket. Validated here, so no field of a
    reply can smuggle a header into the mail."""
    if not cc:
        return
    if identity.channel != "email":
        raise ReplyRefused(_("Cc is only possible on email replies."))
    participants = ticket.meta.setdefault("participants", [])
    for address in cc:
        try:
            validate_email(address)
        except ValidationError:
            raise ReplyRefused(_("%(address)s is not an email address.") % {"address": address}) from None
        entry = ["email", address.strip().lower()]
        if entry not in participants and entry[1] != identity.address:
            participants.append(entry)


def email_cc(ticket: Ticket, recipient: str) -> list[str]:
    """Who an email reply on this ticket is copied to: its email participants, but not the
    recipient. The email adapter sends to these; the console lists them before sending."""
    return [address for channel, address in ticket.meta.get("participants", [])
            if channel == "email" and address != recipient]


def email_recipients(ticket: Ticket) -> tuple[str, list[str]] | None:
    """(To, Cc) of an email reply sent now, or None when no email reply is possible."""
    try:
        identity, _adapter = route_reply(ticket, "email")
    except ReplyRefused:
        return None
    return identity.address, email_cc(ticket, identity.address)


def _check_not_stale(ticket: Ticket, author, seen_seq: int) -> None:
    newer = list(
        events.Event.objects.filter(ticket=ticket, seq__gt=seen_seq, kind="message.created")
        .select_related("message").order_by("seq")
    )
    others = [e for e in newer if e.message is None or e.message.author_id != getattr(author, "pk", None)
              or e.message.direction == Message.Direction.INBOUND]
    if others:
        raise StaleReply([events.serialise(e) for e in others])


def route_reply(ticket: Ticket, channel: str | None) -> tuple[Identity, str]:
    """Which identity and adapter a reply goes out on: the channel asked for, else the one the
    customer last wrote on in this ticket (else anywhere); the adapter that carried their last
    message there, else the first configured for that medium. The console's reply box offers
    what this decides (tickets/console/compose.py uses the same functions)."""
    inbound = (Message.objects.filter(customer=ticket.customer, direction=Message.Direction.INBOUND)
               .filter(**({"channel": channel} if channel else {}))
               .select_related("identity").order_by("-created_at", "-pk"))
    last_inbound = (inbound.filter(ticket=ticket).first() if not channel else None) or inbound.first()
    if last_inbound is not None and last_inbound.identity is not None:
        identity = last_inbound.identity
        adapter_key = reply_adapter_key(identity, last_inbound.adapter or last_inbound.channel)
    else:
        identity = (Identity.objects.filter(customer=ticket.customer, channel=channel or ticket.channel)
                    .order_by("-last_inbound_at", "-pk").first())
        if identity is None:
            raise ReplyRefused(_("This customer has no address on %(channel)s.")
                               % {"channel": channel or ticket.channel})
        adapter_key = reply_adapter_key(identity, None)
    refusal = reply_refusal(identity, adapter_key)
    if refusal:
        raise ReplyRefused(refusal)
    return identity, adapter_key


def reply_adapter_key(identity: Identity, last_adapter: str | None) -> str | None:
    """The adapter that carried the customer's last message on this identity, else the first
    configured for its medium; None when none is configured."""
    from tickets.channels import adapters_for_channel, channel_config

    if last_adapter:
        return last_adapter if last_adapter in channel_config() else None
    keys = adapters_for_channel(identity.channel)
    return keys[0] if keys else None


def reply_refusal(identity: Identity, adapter_key: str | None) -> str | None:
    """Why no reply can go to this identity through this adapter, or None: one wording for the
    service that refuses the send and the reply box that warns before it."""
    if identity.opted_out_at is not None:
        return (_("%(address)s opted out of %(channel)s messages (STOP) and cannot be messaged "
                  "until they opt back in.") % {"address": identity.address, "channel": identity.channel})
    if adapter_key is None:
        return _("No adapter is configured for the %(channel)s channel.") % {"channel": identity.channel}
    return None


def note(ticket: Ticket, *, author, text: str, client_id: str | None = None) -> Message:
    """An internal note: visible to agents only, never to the customer or their widget."""
    if client_id:
        existing = Message.objects.filter(ticket=ticket, client_id=client_id).first()
        if existing is not None:
            return existing
    if not (text or "").strip():
        raise ReplyRefused(_("The note is empty."))
    with transaction.atomic():
        message = Message.objects.create(
            ticket=ticket, customer=ticket.customer, direction=Message.Direction.NOTE,
            channel="note", author=author, author_name=display_name(author), text=text,
            client_id=client_id, status=Message.Status.SENT,
        )
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        events.record("message.created", ticket=ticket, message=message, public=False,
                      data=message_data(message, []))
    return message


