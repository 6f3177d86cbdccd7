"""Organising tickets from the console: tags, moving a message, @mentions in internal notes."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tickets import events, policy
from tickets.models import Mention, Message, Tag, Ticket
from tickets.payloads import message_data, ticket_data
from tickets.people import display_name
from tickets.services.outbound import ReplyRefused, note

MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")


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


def mentioned_users(text: str):
    names = set(MENTION.findall(text or ""))
    if not names:
        return []
    User = get_user_model()
    return list(User.objects.filter(**{f"{User.USERNAME_FIELD}__in": names}, is_active=True))


def note_with_mentions(ticket: Ticket, *, author, text: str, client_id: str | None = None) -> Message:
    """An internal note; every agent @named in it who may see the ticket gets a Mention and a
    live notification (anyone else would get a badge for a ticket they cannot open)."""
    with transaction.atomic():
        message = note(ticket, author=author, text=text, client_id=client_id)
        users = [u for u in mentioned_users(text)
                 if u.pk != getattr(author, "pk", None) and policy.can_see_ticket(u, ticket.pk)]
        new = [u for u in users if not Mention.objects.filter(message=message, user=u).exists()]
        Mention.objects.bulk_create([Mention(message=message, user=u) for u in new])
        for user in new:
            events.record("agent.mentioned", ticket=ticket, message=message,
                          data={"user": user.pk, "by": display_name(author), "ticket": ticket.pk,
                                "subject": ticket.subject, "message": message.pk, "text": text[:200]})
    return message


def mark_mentions_read(user, ticket_id: int) -> int:
    """Opening the ticket reads its mentions (no event: only that agent's badge changes)."""
    return Mention.objects.filter(user=user, message__ticket_id=ticket_id, read_at__isnull=True).update(
        read_at=timezone.now())
