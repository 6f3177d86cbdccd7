"""The event-log sink (settings.HELPDESK_EVENT_SINKS): after each commit, ask the worker for a
routing pass, if routing is configured at all and none is already waiting. Two plain-SQL
reads: this runs after every committed change, ingest's included."""

import time

from django.db import connection
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from routing.models import Inbox, Rule, TeamRouting

_CONFIGURED = (
    f"SELECT 1 FROM {Rule._meta.db_table} WHERE is_active "  # noqa: S608 - table names only
    f"UNION ALL SELECT 1 FROM {TeamRouting._meta.db_table} WHERE mode <> 'off' OR release_when_offline "
    f"UNION ALL SELECT 1 FROM {Inbox._meta.db_table} WHERE team_id IS NOT NULL OR out_of_hours_reply <> '' LIMIT 1"
)
_WAITING = (f"SELECT 1 FROM {DBTaskResult._meta.db_table} WHERE status = %s AND task_path = %s "  # noqa: S608
            "LIMIT 1")


# Whether routing is configured, per process, re-read every CONFIG_TTL seconds: it changes
# weekly, and this runs after every commit. A change made elsewhere is seen within seconds (and
# the periodic sweep catches anything in between).
CONFIG_TTL = 5.0
_configured = {"value": False, "read_at": -CONFIG_TTL}


def _is_configured(cursor) -> bool:
    now = time.monotonic()
    if now - _configured["read_at"] >= CONFIG_TTL:
        cursor.execute(_CONFIGURED)
        _configured.update(value=cursor.fetchone() is not None, read_at=now)
    return _configured["value"]


def forget_configuration() -> None:
    """The settings screen changed it: re-read on the next event in this process."""
    _configured["read_at"] = -CONFIG_TTL


def on_event(seqs: list[int]) -> None:
    from routing.tasks import route

    with connection.cursor() as cursor:
        if not _is_configured(cursor):
            return
        cursor.execute(_WAITING, [TaskResultStatus.READY, route.module_path])
        if cursor.fetchone() is not None:
            return  # a pass that has not started yet will read these events too
    route.enqueue()
