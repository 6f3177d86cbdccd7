"""Cursor (keyset) pagination: stable while rows are added or updated, unlike page numbers.

The cursor is opaque to clients: base64 of [ordering, last value, last id]. Ordering by
(field, id) makes the position unique; a row updated while a client walks `updated_at`
ascending moves behind the cursor and is seen again later, never skipped, which is what an
"everything changed since" sync needs."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from api.errors import ApiError


def _encode(order: str, value, pk: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([order, value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, order: str, field: str):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, value, pk = json.loads(raw)
        if tag != order or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError("cursor for another listing")
        if field != "pk":
            value = datetime.fromisoformat(value)
        return value, pk
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_cursor", _("The cursor is not valid for this listing.")) from exc


def page(queryset: QuerySet, *, cursor: str | None, limit: int, order: str = "pk") -> tuple[list, str | None]:
    """One page of `queryset` in `order` ("pk", "-pk", "updated_at", "-updated_at", ...) and the
    cursor of the next page (None at the end)."""
    descending = order.startswith("-")
    field = order.lstrip("-")
    if cursor:
        value, pk = _decode(cursor, order, field)
        op = "lt" if descending else "gt"
        if field == "pk":
            queryset = queryset.filter(**{f"pk__{op}": pk})
        else:
            queryset = queryset.filter(Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk}))
    ordering = [order, "-pk" if descending else "pk"] if field != "pk" else [order]
    rows = list(queryset.order_by(*ordering)[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, _encode(order, getattr(last, field) if field != "pk" else last.pk, last.pk)
