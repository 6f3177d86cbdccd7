"""Background work (django.tasks API; the django-tasks-db backend in both run modes).

Each task is a thin wrapper: the work is a service function returning an Outcome, and the task
only queues itself again when that outcome asks for a retry. The services queue these jobs by
name (queueing.later), so they never import this module: it is loaded by TicketsConfig.ready().
"""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from tickets.queueing import register_job
from tickets.services.delivery import deliver
from tickets.services.media import download_attachment


@register_job
@task()
def deliver_message(message_id: int) -> str:
    """Send one queued outbound message (services.delivery.deliver)."""
    outcome = deliver(message_id)
    if outcome.retry_in is not None:
        deliver_message.using(run_after=timezone.now() + timedelta(seconds=outcome.retry_in)).enqueue(message_id)
    return outcome.result


@register_job
@task()
def fetch_attachment(attachment_id: int, attempt: int = 1) -> str:
    """Download provider-hosted media (services.media.download_attachment)."""
    outcome = download_attachment(attachment_id, attempt)
    if outcome.retry_in is not None:
        run_after = timezone.now() + timedelta(seconds=outcome.retry_in)
        fetch_attachment.using(run_after=run_after).enqueue(attachment_id, attempt + 1)
    return outcome.result
