"""After an email was stored: add its Cc'd people as ticket participants, and acknowledge
new tickets (never machine-made mail, at most once per sender per day; see tasks.py)."""

from __future__ import annotations

from django.db import transaction

from channels_email import conf
from tickets import services
from tickets.services import IngestResult


def after_ingest(items, *, acknowledge: bool = True) -> None:
    for item in items:
        if not isinstance(item, IngestResult) or not item.created:
            continue
        message = item.message
        for address in message.meta.get("cc", []):
            services.add_participant(message.ticket, "email", address)
        if acknowledge and item.ticket_created and conf.auto_acknowledge() and not message.meta.get("auto_submitted"):
            from channels_email.tasks import send_acknowledgement

            transaction.on_commit(lambda pk=message.pk: send_acknowledgement.enqueue(pk), robust=True)
