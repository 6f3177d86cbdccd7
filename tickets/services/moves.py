"""Moving a message that was threaded into the wrong ticket (same customer only)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import events
from tickets.event_bodies import message_data
from tickets.models import Message, Ticket
from tickets.people import display_name
from tickets.services.outbound import ReplyRefused


def move_message(message: Message, target: Ticket, *, actor=None) -> Message:
    """Move one message to another ticket of the same customer (it was threaded wrongly).
    Never across customers: that would show one person's words in another's history."""
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("ticket").get(pk=message.pk)
        target = Ticket.objects.select_for_update().get(pk=target.pk)
        source = message.ticket
        if source.pk == target.pk:
            return message
        if target.customer_id != message.customer_id:
            raise ReplyRefused(_("A message can only move to another ticket of the same customer."))
        message.ticket = target
        message.save(update_fields=["ticket"])
        now = timezone.now()
        Ticket.objects.filter(pk__in=[source.pk, target.pk]).update(updated_at=now)
        data = {**message_data(message), "moved_from": source.pk, "actor": display_name(actor)}
        events.record("message.moved", ticket=source, message=message, data=data)
        events.record("message.moved", ticket=target, message=message, data=data)
    return message
