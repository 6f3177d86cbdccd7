"""After an email was stored: add its Cc'd people as ticket participants, and acknowledge
new tickets (never machine-made mail, at most once per sender per day; see tasks.py)."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from channels_email import conf, tokens
from channels_email.models import Acknowledgement
from tickets import services
from tickets.queueing import enqueue_on_commit
from tickets.services import IngestResult


def after_ingest(items, *, acknowledge: bool = True) -> None:
    for item in items:
        if not isinstance(item, IngestResult) or not item.created:
            continue
        message = item.message
        if message.meta.get("cc"):  # capped, one write: tickets.services.add_participants
            services.add_participants(message.ticket, "email", message.meta["cc"])
        if acknowledge and item.ticket_created and conf.auto_acknowledge() and not message.meta.get("auto_submitted"):
            ack_id = claim(message.identity.address, message.ticket_id)
            if ack_id is not None:
                from channels_email.tasks import send_acknowledgement

                enqueue_on_commit(send_acknowledgement, message.pk, ack_id)


# One statement, no savepoint: the unique (address, day) constraint is the once-a-day rule, and
# claiming here instead of in the task means a burst of mail from one sender queues one task,
# not one per message. Plain SQL because ingest is the hot path (see tickets/plainsql.py).
_CLAIM = (f"INSERT INTO {Acknowledgement._meta.db_table} (address, day, ticket_id, message_id, created_at) "  # noqa: S608
          "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (address, day) DO NOTHING RETURNING id")


def claim(address: str, ticket_id: int) -> int | None:
    """Today's acknowledgement for this sender, or None when one was already claimed today."""
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM, [address, ops.adapt_datefield_value(timezone.localdate()), ticket_id,
                                tokens.message_id(ticket_id), ops.adapt_datetimefield_value(timezone.now())])
        row = cursor.fetchone()
    return row[0] if row else None
