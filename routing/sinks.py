"""The event-log sink (settings.HELPDESK_EVENT_SINKS): after each commit, ask the worker for a
routing pass, if routing is configured at all and none is already waiting. Two plain-SQL
reads (tickets.sql): this runs after every committed change, ingest's included."""

import time

from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from routing.models import Inbox, Rule, TeamRouting
from tickets import sql

# Whether routing is configured, per process, re-read every CONFIG_TTL seconds: it changes
# weekly, and this runs after every commit. A change made elsewhere is seen within seconds (and
# the periodic sweep catches anything in between).
CONFIG_TTL = 5.0
_configured = {"value": False, "read_at": -CONFIG_TTL}


def _is_configured() -> bool:
    now = time.monotonic()
    if now - _configured["read_at"] >= CONFIG_TTL:
        configured = (sql.exists(Rule, is_active=True) or sql.exists(TeamRouting, mode__ne="off")
                      or sql.exists(TeamRouting, release_when_offline=True)
                      or sql.exists(Inbox, team__isnull=False) or sql.exists(Inbox, out_of_hours_reply__ne=""))
        _configured.update(value=configured, read_at=now)
    return _configured["value"]


def forget_configuration() -> None:
    """The settings screen changed it: re-read on the next event in this process."""
    _configured["read_at"] = -CONFIG_TTL


def on_event(seqs: list[int]) -> None:
    from routing.tasks import route

    if not _is_configured():
        return
    if sql.exists(DBTaskResult, status=TaskResultStatus.READY, task_path=route.module_path):
        return  # a pass that has not started yet will read these events too
    route.enqueue()
