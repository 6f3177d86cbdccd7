"""The out-of-hours auto-reply: a customer who writes while their inbox is closed hears so, in
the inbox's own words, once per conversation.

Sent through tickets.services.send_automated (marked automated: it is not a first reply for
service levels or reports, and the customer stays "waiting"); on email it carries
`Auto-Submitted: auto-replied` (RFC 3834, channels_email.outbound). Never to machine-made
mail (an autoresponder, a bounce, a list: the email channel marks those
`meta["auto_submitted"]` on ingest), so two robots never answer each other.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from routing import hours
from tickets import automated, services
from tickets.models import Message, Ticket

log = logging.getLogger(__name__)


def already_sent(ticket: Ticket) -> bool:
    return Message.objects.filter(ticket=ticket, meta__automated=automated.OUT_OF_HOURS).exists()


def maybe_send(ticket: Ticket, inbox, message_id: int | None, at: datetime) -> Message | None:
    """Reply to the customer message `message_id` (written at `at`) when its inbox has an
    out-of-hours text, was closed at `at`, and this ticket has not had one yet."""
    text = (getattr(inbox, "out_of_hours_reply", "") or "").strip()
    if not text or hours.is_open(ticket, at):
        return None
    meta = Message.objects.filter(pk=message_id).values_list("meta", flat=True).first() or {}
    if meta.get("auto_submitted") or already_sent(ticket):
        return None
    try:
        with transaction.atomic():
            identity, adapter_key = services.route_reply(ticket, None)
            return services.send_automated(ticket, identity=identity, adapter_key=adapter_key,
                                           reason=automated.OUT_OF_HOURS, text=text)
    except services.ReplyRefused as exc:  # no address to answer on, opted out...: nothing to send
        log.info("out-of-hours reply on ticket %s not sent: %s", ticket.pk, exc.reason)
    except Exception:  # a failing auto-reply must never stop routing
        log.exception("out-of-hours reply on ticket %s failed", ticket.pk)
    return None
