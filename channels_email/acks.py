"""Acknowledging new tickets (never machine-made mail, at most once per sender per day; see
tasks.py). tickets.services.ingest calls `queue_acknowledgement` (registered in apps.py) for a
mail that opened a ticket and asked for one (InboundMessage.acknowledge, set by the adapter)."""

from __future__ import annotations

from django.utils import timezone

from channels_email import tokens
from channels_email.models import Acknowledgement
from tickets import sql
from tickets.queueing import enqueue_on_commit


def queue_acknowledgement(message) -> None:
    """Today's acknowledgement to the sender, claimed now and sent by a task after commit."""
    if message.identity is None:
        return
    ack_id = claim(message.identity.address, message.ticket_id)
    if ack_id is not None:
        from channels_email.tasks import send_acknowledgement

        enqueue_on_commit(send_acknowledgement, message.pk, ack_id)


# One statement, no savepoint: the unique (address, day) constraint is the once-a-day rule, and
# claiming here instead of in the task means a burst of mail from one sender queues one task,
# not one per message. tickets.sql because ingest is the hot path.
def claim(address: str, ticket_id: int) -> int | None:
    """Today's acknowledgement for this sender, or None when one was already claimed today."""
    return sql.insert_unless_exists(
        Acknowledgement(address=address, day=timezone.localdate(), ticket_id=ticket_id,
                        message_id=tokens.message_id(ticket_id)), conflict=("address", "day"))
