"""Merging tickets into one, as Freshdesk and Zendesk do: each merged ticket's conversation is
copied into the kept ticket as an internal note (who wrote what, when), its tags join the
kept ticket's, and it is closed with a note naming where it went. Nothing is moved or deleted,
so every message keeps its channel, delivery state and threading, and the kept ticket's
timeline tells the whole story.

Tickets of another customer merge only when the agent may merge those customers
(tickets.policy.can_merge_customers: the permission to change customers and access to every
ticket of both); the customers themselves stay apart (merging people is its own, audited
action)."""

from __future__ import annotations

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tickets import services
from tickets.models import Message, Ticket
from tickets.people import display_name
from tickets.policy import can_merge_customers

MAX_COPIED_MESSAGES = 100
MAX_NOTE_CHARS = 20000


def transcript(source: Ticket) -> str:
    """The source ticket's conversation as plain text, oldest first (bounded)."""
    messages = list(Message.objects.filter(ticket=source).select_related("author", "customer")
                    .order_by("created_at", "pk")[:MAX_COPIED_MESSAGES])
    lines = []
    for m in messages:
        who = (m.author_name or display_name(m.author) if m.direction != Message.Direction.INBOUND
               else (m.customer.name or _("Customer")))
        kind = {Message.Direction.NOTE: _("note"), Message.Direction.OUTBOUND: m.channel,
                Message.Direction.INBOUND: m.channel}.get(m.direction, m.channel)
        lines.append(f"[{date_format(m.created_at, 'SHORT_DATETIME_FORMAT')}] {who or _('Helpdesk')} ({kind}):\n"
                     f"{(m.text or '').strip()}")
    text = "\n\n".join(lines)
    return text if len(text) <= MAX_NOTE_CHARS else text[:MAX_NOTE_CHARS] + "\n[…]"


def merge_into(target: Ticket, source: Ticket, *, actor) -> None:
    """Merge `source` into `target` in one transaction (all of it or none)."""
    if source.pk == target.pk:
        raise ValueError(_("A ticket cannot be merged into itself."))
    if source.status == Ticket.Status.CLOSED:
        raise ValueError(_("Closed tickets are not merged."))
    if source.customer_id != target.customer_id and not can_merge_customers(actor, source.customer_id,
                                                                             target.customer_id):
        raise ValueError(_("#%(s)s is another customer's: merging it needs the permission to merge customers.")
                         % {"s": source.pk})
    with transaction.atomic():
        target = Ticket.objects.select_for_update().select_related("customer").get(pk=target.pk)
        source = Ticket.objects.select_for_update().select_related("customer").get(pk=source.pk)
        heading = _("Merged from #%(s)s “%(subject)s” (%(customer)s):") % {
            "s": source.pk, "subject": source.subject, "customer": source.customer.name or source.customer_id}
        services.note(target, author=actor, text=f"{heading}\n\n{transcript(source) or _('(no messages)')}")
        tags = set(target.tags.values_list("name", flat=True))
        extra = set(source.tags.values_list("name", flat=True)) - tags
        if extra:
            services.set_tags(target, sorted(tags | extra), actor=actor)
        services.note(source, author=actor, text=_("Merged into #%(t)s.") % {"t": target.pk})
        services.set_status(source, Ticket.Status.CLOSED, actor=actor)
