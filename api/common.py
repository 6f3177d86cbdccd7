"""Pieces every endpoint shares: documented error responses, common parameters, lookups that
apply the console's permission rules (tickets.policy)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query

from api.errors import ApiError, ErrorOut, not_found
from api.schemas import MAX_ID
from tickets import policy
from tickets.models import Customer, Message, Ticket

READ_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**READ_ERRORS, 409: ErrorOut}

# Printable ASCII without surrounding blanks (HTTP would strip those anyway).
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]([ -~]{0,253}[!-~])?$"


def idempotency_header():
    return Header(None, alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN,
                  description=_("Retrying a POST with the same key creates nothing twice: the first "
                                "response is replayed (kept 24 hours, per token)."))


def cursor_query():
    return Query(None, max_length=500, pattern=r"^[A-Za-z0-9_-]+$",
                 description="The `next_cursor` of the previous page.")


def limit_query():
    return Query(50, ge=1, le=100, description="Page size.")


def id_query(description: str):
    return Query(None, ge=1, le=MAX_ID, description=description)


def as_utc(value: datetime) -> datetime:
    """An instant from a query string, in UTC: any offset Python accepts (up to +-23:59) is valid
    ISO 8601, but PostgreSQL refuses offsets past +-15:59 (a 500 instead of an answer). A naive
    value is read in the server's time zone, as Django does."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 at +20:00 lies before datetime.min in UTC
        raise ApiError(400, "bad_datetime", _("%(value)s is out of range.") % {"value": value.isoformat()}) from None


def visible_ticket(request, ticket_id: int) -> Ticket:
    """The ticket, if this token's user may see it in the console. Invisible and missing look
    the same (404), so ids of other teams' tickets leak nothing."""
    if not policy.can_see_ticket(request.user, ticket_id):
        raise not_found(_("Ticket"))
    ticket = Ticket.objects.select_related("customer").filter(pk=ticket_id).first()
    if ticket is None:
        raise not_found(_("Ticket"))
    return ticket


def visible(request, rows, ticket_id=lambda row: row.pk):
    """Filter a page through the console's per-ticket rule (team scoping), in one query."""
    allowed = policy.visible_ticket_ids(request.user, [ticket_id(row) for row in rows])
    return [row for row in rows if ticket_id(row) in allowed]


def visible_customer(request, customer_id: int) -> Customer:
    """The customer, if this token's user may see them (tickets.policy): a customer of other
    teams looks missing (404), as their tickets do."""
    customer = (Customer.objects.prefetch_related("identities")
                .filter(policy.visible_customers(request.user), pk=customer_id).first())
    if customer is None:
        raise not_found(_("Customer"))
    return customer


def agent_or_422(user_id: int):
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not policy.is_agent(user):
        raise ApiError(422, "unknown_agent", _("User %(id)s is not an active agent.") % {"id": user_id})
    return user


def messages_query():
    return Message.objects.prefetch_related("attachments")
