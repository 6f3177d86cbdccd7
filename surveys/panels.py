"""Satisfaction ratings beside a customer (a HELPDESK_CUSTOMER_PANELS entry): every rating on
the customer's tickets the agent may see, newest first. One query."""

from __future__ import annotations

from surveys.models import Survey
from tickets.policy import visible_tickets

RATINGS_SHOWN = 20


def ratings(customer, user, identities=None) -> dict | None:
    rated = list(Survey.objects.filter(visible_tickets(user, prefix="ticket__"), ticket__customer_id=customer.pk,
                                       rating__isnull=False)
                 .select_related("ticket").order_by("-answered_at")[:RATINGS_SHOWN])
    if not rated:
        return None
    average = sum(s.rating for s in rated) / len(rated)
    return {"template": "surveys/_customer_ratings.html", "context": {"ratings": rated, "average": average}}
