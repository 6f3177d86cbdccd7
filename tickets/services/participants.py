"""Participants: addresses besides the customer's that may write into a ticket and receive its
replies (a Cc'd colleague, the email a chat visitor left for offline replies)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from tickets import events
from tickets.addresses import normalise_address
from tickets.event_bodies import ticket_data
from tickets.models import Message, Ticket

log = logging.getLogger(__name__)


def add_participant(ticket: Ticket, channel: str, address: str) -> Ticket:
    """Let another address reply into this ticket (a cc'd colleague, the email a chat visitor
    left for offline replies). The address is normalised; nothing else about it is trusted."""
    return add_participants(ticket, channel, [address])


def add_participants(ticket: Ticket, channel: str, addresses) -> Ticket:
    """add_participant() for many addresses at once: at most HELPDESK_MAX_CC_PARTICIPANTS new
    ones per call (a mail Cc'ing 3,000 addresses took 20 s of writes, one row lock, save and
    event each), written with one UPDATE and announced with one event."""
    limit = settings.HELPDESK_MAX_CC_PARTICIPANTS
    entries = []
    for address in addresses:
        try:
            entry = [channel, normalise_address(channel, address)]
        except ValueError:
            log.info("participant %r on ticket %s is not a %s address: skipped", address, ticket.pk, channel)
            continue
        if entry not in entries:
            entries.append(entry)
    if not entries:
        return ticket
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        participants = ticket.meta.setdefault("participants", [])
        known = {tuple(p) for p in participants}
        new = [e for e in entries if tuple(e) not in known]
        if len(new) > limit:
            log.warning("ticket %s: %d new participants in one go, only the first %d added",
                        ticket.pk, len(new), limit)
            new = new[:limit]
        if new:
            participants.extend(new)
            ticket.save(update_fields=["meta", "updated_at"])
            events.record("ticket.updated", ticket=ticket, data={**ticket_data(ticket), "change": "participants"})
    return ticket


def add_copied(message: Message, ticket_created: bool, copied) -> None:
    """The addresses a customer copied on their message (an email's Cc) join its ticket, when
    `copied_may_join` says they may (capped, one write: add_participants)."""
    if copied and copied_may_join(message, ticket_created):
        add_participants(message.ticket, message.channel, copied)


def copied_may_join(message: Message, ticket_created: bool) -> bool:
    """Whether the addresses copied on this message become participants of its ticket (they
    then receive every reply and may write into the ticket). Only from the customer's own
    first message of the ticket: the one that opened it, or their first on a ticket an agent
    opened. Anyone else (a participant, or the customer later on) cannot hand out access by
    copying people in; an agent adds people from the reply's Cc field."""
    if ticket_created:
        return True
    if message.identity is None or message.identity.customer_id != message.ticket.customer_id:
        return False
    return not Message.objects.filter(ticket_id=message.ticket_id, direction=Message.Direction.INBOUND,
                                      pk__lt=message.pk).exists()
