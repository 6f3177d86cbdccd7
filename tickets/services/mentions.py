"""@mentions in internal notes: who is mentioned, the note that mentions them, read marks."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from tickets import events, policy
from tickets.models import Mention, Message, Ticket
from tickets.people import display_name
from tickets.services.outbound import note

MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")


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
