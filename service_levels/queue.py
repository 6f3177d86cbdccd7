"""The main queue's "By next deadline" order (settings.HELPDESK_QUEUE_ORDERS names it, so the
console offers it beside its own order without `tickets` importing this app)."""

from __future__ import annotations

from django.db.models import F
from django.utils.translation import gettext_lazy as _


def by_next_deadline(tickets, limit: int) -> list[int]:
    """Ids of `tickets` (the queue view's active tickets, a Ticket queryset) in the order of
    their next SLA deadline, overdue ones first, then those without a deadline as the queue
    usually has them (longest waiting first): two queries at most, each a LIMIT over an index
    (the partial next-deadline index, joined to the tickets by key)."""
    ids = list(tickets.filter(sla_metrics__next_due_at__isnull=False)
               .order_by("sla_metrics__next_due_at", "pk").values_list("pk", flat=True)[:limit])
    if len(ids) < limit:
        ids += list(tickets.filter(sla_metrics__next_due_at__isnull=True)
                    .order_by(F("waiting_since").asc(nulls_last=True), "updated_at")
                    .values_list("pk", flat=True)[:limit - len(ids)])
    return ids


by_next_deadline.label = _("By next deadline")
