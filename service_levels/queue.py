"""The main queue's "By next deadline" order (settings.HELPDESK_QUEUE_ORDERS names it, so the
console offers it beside its own order without `tickets` importing this app)."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef
from django.utils.translation import gettext_lazy as _


def by_next_deadline(tickets, limit: int) -> list[int]:
    """Ids of `tickets` (the queue view's active tickets, a Ticket queryset) in the order of
    their next SLA deadline, overdue ones first, then those without a deadline as the queue
    usually has them (longest waiting first): two queries at most.

    The first reads the partial next-deadline index in order and asks, row by row, whether the
    ticket is in the view (EXISTS on its key), stopping at `limit`: as a join, SQLite chose to
    start from the tickets' status index and sort all of them (0.5 s at 100,000 tickets)."""
    from service_levels.models import TicketMetrics

    ids = list(TicketMetrics.objects.filter(next_due_at__isnull=False)
               .filter(Exists(tickets.filter(pk=OuterRef("ticket_id"))))
               .order_by("next_due_at").values_list("ticket_id", flat=True)[:limit])
    if len(ids) < limit:
        ids += list(tickets.filter(sla_metrics__next_due_at__isnull=True)
                    .order_by(F("waiting_since").asc(nulls_last=True), "updated_at")
                    .values_list("pk", flat=True)[:limit - len(ids)])
    return ids


by_next_deadline.label = _("By next deadline")
