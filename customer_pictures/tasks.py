"""The picture fetch (django.tasks), queued by the sink through tickets.queueing.later: a thin
wrapper that queues itself again when the service asks for a retry."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from customer_pictures.fetching import refresh
from tickets.queueing import register_job


@register_job
@task()
def fetch_picture(identity_id: int, adapter_key: str, attempt: int = 1) -> str:
    """Fetch and store one identity's profile picture (fetching.refresh)."""
    outcome = refresh(identity_id, adapter_key, attempt)
    if outcome.retry_in is not None:
        run_after = timezone.now() + timedelta(seconds=outcome.retry_in)
        fetch_picture.using(run_after=run_after).enqueue(identity_id, adapter_key, attempt + 1)
    return outcome.result
