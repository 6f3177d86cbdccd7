"""The retention run: every `prune_*` command named in HELPDESK_RETENTION_COMMANDS, once a day.

Scheduling without cron: `run_retention` (privacy.tasks) re-enqueues itself for the next day
with `run_after`, on whatever task backend runs the rest (the embedded worker of `manage.py
serve`, or `db_worker` processes). The one RetentionSchedule row names the task allowed to run
next, so a task enqueued twice (two servers starting at once, an operator's retry) does nothing
the second time, and `ensure_scheduled()` (called by `serve` at start) restarts the chain if it
was ever lost (a purged task table, a worker killed mid-run)."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone

from privacy.models import RetentionSchedule

log = logging.getLogger(__name__)

# A task still "running" after this long belongs to a worker that died: schedule anew.
STUCK_AFTER = timedelta(hours=6)


def apply_retention(stdout=None) -> dict:
    """Run every retention command; one failing does not stop the others. Returns
    {command: "ok" | "error: ..."} (the commands' own output goes to `stdout`)."""
    result = {}
    for name in settings.HELPDESK_RETENTION_COMMANDS:
        out = stdout or io.StringIO()
        try:
            call_command(name, stdout=out)
            result[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - logged and reported; the next command still runs
            log.exception("retention command %s failed", name)
            result[name] = f"error: {type(exc).__name__}: {exc}"
    return result


def next_run(now: datetime) -> datetime:
    """The next HELPDESK_RETENTION_HOUR o'clock (in TIME_ZONE) strictly after `now`."""
    local = timezone.localtime(now)
    at = local.replace(hour=settings.HELPDESK_RETENTION_HOUR, minute=0, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    return at


def ensure_scheduled(now: datetime | None = None) -> str | None:
    """Make sure one retention task is waiting; returns its id (None when daily retention is off)."""
    if not settings.HELPDESK_RETENTION_DAILY:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        schedule = locked_schedule()
        if schedule.task_id and _waiting(schedule.task_id, now):
            return schedule.task_id
        return schedule_next(schedule, next_run(now))


def locked_schedule() -> RetentionSchedule:
    """The schedule row, locked until the caller's transaction ends (created on first use)."""
    try:
        with transaction.atomic():
            RetentionSchedule.objects.get_or_create(pk=1)
    except IntegrityError:  # created concurrently: fine, it exists now
        pass
    return RetentionSchedule.objects.select_for_update().get(pk=1)


def schedule_next(schedule: RetentionSchedule, run_after: datetime) -> str:
    from privacy.tasks import run_retention

    result = run_retention.using(run_after=run_after).enqueue()
    schedule.task_id, schedule.next_run_at = result.id, run_after
    schedule.save(update_fields=["task_id", "next_run_at"])
    log.info("retention scheduled for %s (task %s)", run_after.isoformat(), result.id)
    return result.id


def _waiting(task_id: str, now: datetime) -> bool:
    from privacy.tasks import run_retention

    try:
        result = run_retention.get_result(task_id)
    except TaskResultDoesNotExist:
        return False
    if result.status == TaskResultStatus.READY:
        return True
    return result.status == TaskResultStatus.RUNNING and (result.started_at or now) > now - STUCK_AFTER
