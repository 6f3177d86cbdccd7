"""After an email was stored: add its Cc'd people as ticket participants, and acknowledge
new tickets (never machine-made mail, at most once per sender per day; see tasks.py)."""

from __future__ import annotations

from django.utils import timezone

from channels_email import conf, tokens
from channels_email.models import Acknowledgement
from tickets import services, sql
from tickets.models import Message
from tickets.queueing import enqueue_on_commit
from tickets.services import IngestResult


def after_ingest(items, *, acknowledge: bool = True) -> None:
    for item in items:
        if not isinstance(item, IngestResult) or not item.created:
            continue
        message = item.message
        if message.meta.get("cc") and cc_may_join(message, item.ticket_created):
            # Capped, one write: tickets.services.add_participants.
            services.add_participants(message.ticket, "email", message.meta["cc"])
        if acknowledge and item.ticket_created and conf.auto_acknowledge() and not message.meta.get("auto_submitted"):
            ack_id = claim(message.identity.address, message.ticket_id)
            if ack_id is not None:
                from channels_email.tasks import send_acknowledgement

                enqueue_on_commit(send_acknowledgement, message.pk, ack_id)


def cc_may_join(message, ticket_created: bool) -> bool:
    """Whether this mail's Cc'd addresses become participants of its ticket (they then receive
    every reply and may write into the ticket). Only from the customer's own first mail of the
    ticket: the mail that opened it, or their first mail on a ticket an agent opened. Anyone
    else (a participant, or the customer later on) cannot hand out access by Cc; an agent adds
    people from the reply's Cc field."""
    if ticket_created:
        return True
    if message.identity is None or message.identity.customer_id != message.ticket.customer_id:
        return False
    return not Message.objects.filter(ticket_id=message.ticket_id, direction=Message.Direction.INBOUND,
                                      pk__lt=message.pk).exists()


# One statement, no savepoint: the unique (address, day) constraint is the once-a-day rule, and
# claiming here instead of in the task means a burst of mail from one sender queues one task,
# not one per message. tickets.sql because ingest is the hot path.


def claim(address: str, ticket_id: int) -> int | None:
    """Today's acknowledgement for this sender, or None when one was already claimed today."""
    return sql.insert_unless_exists(
        Acknowledgement(address=address, day=timezone.localdate(), ticket_id=ticket_id,
                        message_id=tokens.message_id(ticket_id)), conflict=("address", "day"))
