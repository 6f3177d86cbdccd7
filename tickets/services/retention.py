"""Retention: old rows deleted in short batches, so nothing personal is kept forever by accident.

Each batch is its own transaction: a prune of a million events never holds SQLite's write lock
for more than a moment, and ingest goes on beside it. The `prune_*` commands and the daily
retention task (`privacy`) call these."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.models import InboundPayload

BATCH = 1000


def delete_in_batches(queryset, progress=None, batch: int = BATCH) -> int:
    """Delete the rows of `queryset` a batch at a time; `progress` (tickets' Progress bar, or
    None) is told the total first and each batch after. Returns how many rows went."""
    model = queryset.model
    if progress is not None:
        progress.total = max(queryset.count(), 1)
    deleted = 0
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        with transaction.atomic():
            count = model._base_manager.filter(pk__in=ids).delete()[1].get(model._meta.label, 0)
        deleted += count
        if progress is not None:
            progress.add(len(ids))


# Payloads an admin has not dealt with yet (failed, quarantined) are kept longer than processed
# ones: they may still need a replay, but not for ever.
SETTLED = (InboundPayload.State.PROCESSED, InboundPayload.State.DISCARDED)


def old_inbound_payloads(days: int | None = None, unsettled_days: int | None = None, now=None):
    """Processed/discarded payloads older than HELPDESK_PAYLOAD_RETENTION_DAYS, and any other
    older than HELPDESK_PAYLOAD_UNSETTLED_RETENTION_DAYS."""
    now = now or timezone.now()
    days = settings.HELPDESK_PAYLOAD_RETENTION_DAYS if days is None else days
    unsettled_days = settings.HELPDESK_PAYLOAD_UNSETTLED_RETENTION_DAYS if unsettled_days is None else unsettled_days
    settled = InboundPayload.objects.filter(state__in=SETTLED, received_at__lt=now - timedelta(days=days))
    unsettled = InboundPayload.objects.exclude(state__in=SETTLED).filter(
        received_at__lt=now - timedelta(days=unsettled_days))
    return settled | unsettled


def prune_inbound_payloads(days: int | None = None, unsettled_days: int | None = None, *, progress=None,
                           now=None) -> int:
    return delete_in_batches(old_inbound_payloads(days, unsettled_days, now=now), progress)
