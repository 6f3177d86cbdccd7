"""Tags on tickets, set from the console, the API and macros."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from tickets import events
from tickets.event_bodies import ticket_data
from tickets.models import Tag, Ticket
from tickets.people import display_name


def set_tags(ticket: Ticket, names, *, actor=None) -> Ticket:
    """Replace the ticket's tags with `names` (created on first use, lower-case slugs)."""
    wanted = sorted({slugify(n, allow_unicode=True)[:50] for n in names if slugify(n, allow_unicode=True)})
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        current = sorted(ticket.tags.values_list("name", flat=True))
        if current == wanted:
            return ticket
        tags = []
        for name in wanted:
            tag, _created = Tag.objects.get_or_create(name=name)
            tags.append(tag)
        ticket.tags.set(tags)
        ticket.save(update_fields=["updated_at"])
        data = ticket_data(ticket)
        data.update(change="tags", tags=wanted, actor=display_name(actor),
                    added=[t for t in wanted if t not in current], removed=[t for t in current if t not in wanted])
        events.record("ticket.updated", ticket=ticket, data=data)
    return ticket
