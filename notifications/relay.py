"""Notifications made by another process, pushed live in the embedded mode.

The embedded default's channel layer is in-memory, so a push (doorbell.push) reaches only the
sockets of the process that sends it. A notification created elsewhere (the `ingest_email` pipe
the MTA runs, a `manage.py` command, a separate `db_worker`) was stored but not pushed: the bell
showed it on the next page. `serve` now runs this relay (HELPDESK_SERVE_PROCESS_RUNNERS, in each process): like the
watchman with the event log (tickets/realtime.py), it looks at the notification table every
HELPDESK_EVENT_POLL_SECONDS and pushes the rows this process did not push itself, the way
services.announce() does. With a shared layer (Redis) every process pushes for itself and the
relay does not run.

New rows are found by id: on SQLite (the embedded mode's database) one writer at a time makes
id order commit order, so a row below the last id seen cannot appear later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)

# (user id, event seq) of the notifications this process has announced or is about to (marked
# before their transaction commits, so the relay never sees one unmarked): the relay skips them.
# Bounded: a process that never relays (the pipe, a command) forgets the oldest.
_announced: dict[tuple[int, int], None] = {}
_announced_lock = threading.Lock()
KEEP = 10_000
BATCH = 500


def announced_here(keys: Iterable[tuple[int, int]]) -> None:
    with _announced_lock:
        for key in keys:
            _announced[key] = None
        while len(_announced) > KEEP:
            del _announced[next(iter(_announced))]


def latest_id() -> int:
    from notifications.models import Notification

    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def relay_since(last_id: int) -> int:
    """Push the notifications after `last_id` that this process did not announce; returns the
    new last id. One query, plus announce()'s when there is something to push."""
    from django.contrib.auth import get_user_model

    from notifications.models import Notification
    from notifications.services import announce

    rows = list(Notification.objects.filter(pk__gt=last_id).order_by("pk").values_list("pk", "user_id", "seq")[:BATCH])
    if not rows:
        return last_id
    with _announced_lock:
        keys = [(user_id, seq) for _pk, user_id, seq in rows]
        foreign = [key for key in keys if key not in _announced]
        for key in keys:
            _announced.pop(key, None)  # seen once: no longer needed
    if foreign:
        users = get_user_model().objects.filter(pk__in={user_id for user_id, _seq in foreign}, is_active=True).in_bulk()
        if users:
            announce(users, {seq for _user_id, seq in foreign})
    return rows[-1][0]


class Relay:
    def __init__(self):
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            last = latest_id()  # what is older was shown by the pages already open
        except Exception:  # no table yet (a serve before migrate): nothing to relay
            log.exception("the notification relay could not start")
            return
        finally:
            close_old_connections()
        while not self.stopping.wait(settings.HELPDESK_EVENT_POLL_SECONDS):
            try:
                last = relay_since(last)
            except Exception:  # a locked or lost database: look again next time
                log.exception("the notification relay failed; trying again")
            finally:
                close_old_connections()

    def stop(self) -> None:
        self.stopping.set()


def start_in_serve():
    """HELPDESK_SERVE_PROCESS_RUNNERS entry: a daemon thread of each `serve` process, in the embedded mode only;
    returns the stop function."""
    from tickets import doorbell

    if settings.HELPDESK_EVENT_POLL_SECONDS <= 0 or not doorbell.process_local():
        return lambda: None
    relay = Relay()
    threading.Thread(target=relay.run, name="notification-relay", daemon=True).start()
    return relay.stop
