"""The daily retention task (see privacy.retention for the scheduling)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from privacy.models import RetentionSchedule
from privacy.retention import apply_retention, locked_schedule, next_run, schedule_next

log = logging.getLogger(__name__)


@task(takes_context=True)
def run_retention(context) -> dict:
    now = timezone.now()
    with transaction.atomic():
        schedule = locked_schedule()
        if schedule.task_id != str(context.task_result.id):
            log.info("retention task %s is not the scheduled one (%s): nothing to do",
                     context.task_result.id, schedule.task_id)
            return {"skipped": "not the scheduled task"}
        # Tomorrow's run is queued before today's work: a failure below cannot break the chain.
        schedule_next(schedule, next_run(now))
    result = apply_retention()
    RetentionSchedule.objects.filter(pk=1).update(last_run_at=now, last_result=result)
    return result
