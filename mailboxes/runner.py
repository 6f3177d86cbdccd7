"""The mailbox runner: one thread per enabled mailbox, each holding the mailbox's lease while it
syncs, then waiting for new mail with IMAP IDLE (or polling where IDLE is not offered).

Started by `manage.py serve` (embedded mode, through HELPDESK_SERVE_RUNNERS) or on its own with
`manage.py run_mailboxes` (scaled mode; start as many as you like: the lease in the database
lets exactly one of them import a given mailbox, and another takes over when it dies).
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from django.utils.crypto import get_random_string

from mailboxes import health, imap, oauth, sync
from mailboxes.models import Mailbox

log = logging.getLogger(__name__)


def poll_seconds() -> float:
    return float(getattr(settings, "HELPDESK_MAILBOX_POLL_SECONDS", 60))


def idle_seconds() -> float:
    # RFC 2177: re-issue IDLE at least every 29 minutes; we also renew the lease meanwhile.
    return float(getattr(settings, "HELPDESK_MAILBOX_IDLE_SECONDS", 600))


def sync_once(mailbox: Mailbox, owner: str, progress=None) -> int:
    """Connect, sync, disconnect, recording health. Raises nothing an admin could not read:
    the error is stored in plain words and returned as -1."""
    if not health.claim(mailbox.pk, owner):
        return 0
    try:
        client = imap.connect(mailbox)
        try:
            count = sync.sync(mailbox, client, renew=lambda: health.claim(mailbox.pk, owner), progress=progress)
        finally:
            imap.close(client)
    except sync.LeaseLost:
        return 0
    except Exception as exc:  # noqa: BLE001 - recorded for the admin; the runner backs off
        _record_failure(mailbox, exc)
        return -1
    finally:
        health.release(mailbox.pk, owner)
    health.succeeded(mailbox)
    return count


def _record_failure(mailbox: Mailbox, exc: BaseException) -> None:
    message = str(exc) if isinstance(exc, oauth.OAuthError) else imap.explain(exc)
    retry_at = health.failed(mailbox, message)
    log.warning("mailbox %s (%s) failed, retrying at %s: %s", mailbox.pk, mailbox.address,
                retry_at.isoformat(timespec="seconds"), message)


class MailboxWorker(threading.Thread):
    def __init__(self, mailbox_id: int, owner: str, stopping: threading.Event):
        super().__init__(name=f"mailbox-{mailbox_id}", daemon=True)
        self.mailbox_id, self.owner, self.stopping = mailbox_id, owner, stopping

    def run(self):
        try:
            self._loop()
        except Exception:  # noqa: BLE001 - a bug must not take the whole runner down
            log.exception("mailbox %s worker crashed; the runner restarts it", self.mailbox_id)
        finally:
            health.release(self.mailbox_id, self.owner)
            connections.close_all()

    def _loop(self):
        while not self.stopping.is_set():
            close_old_connections()
            mailbox = Mailbox.objects.filter(pk=self.mailbox_id, enabled=True).first()
            if mailbox is None:
                return  # disabled or deleted
            if mailbox.next_attempt_at and mailbox.next_attempt_at > timezone.now():
                wait = (mailbox.next_attempt_at - timezone.now()).total_seconds()
                self.stopping.wait(min(wait, 5.0))
                continue
            if not health.claim(mailbox.pk, self.owner):
                self.stopping.wait(health.lease_seconds() / 3)
                continue
            try:
                self._session(mailbox)
            except sync.LeaseLost:
                log.info("mailbox %s: lease taken over by another runner", mailbox.pk)
                self.stopping.wait(health.lease_seconds() / 3)
            except Exception as exc:  # noqa: BLE001 - recorded in plain words, then backoff
                _record_failure(mailbox, exc)

    def _session(self, mailbox: Mailbox):
        client = imap.connect(mailbox)
        try:
            while not self.stopping.is_set() and not self._changed(mailbox):
                sync.sync(mailbox, client, renew=self._renew)
                health.succeeded(mailbox)
                self._wait_for_mail(client, mailbox)
                if not self._renew():
                    raise sync.LeaseLost("the lease was taken over")
        finally:
            imap.close(client)

    def _renew(self) -> bool:
        return health.claim(self.mailbox_id, self.owner)

    @staticmethod
    def _changed(mailbox: Mailbox) -> bool:
        """An admin saved new settings (or removed the mailbox): reconnect with the new ones."""
        current = Mailbox.objects.filter(pk=mailbox.pk).values_list("updated_at", flat=True).first()
        return current != mailbox.updated_at

    def _wait_for_mail(self, client, mailbox: Mailbox):
        renew_every = health.lease_seconds() / 3
        if not client.has_capability("IDLE"):
            deadline = time.monotonic() + poll_seconds()
            while not self.stopping.is_set() and time.monotonic() < deadline:
                self.stopping.wait(min(renew_every, deadline - time.monotonic()))
                if not self._renew():
                    raise sync.LeaseLost("the lease was taken over")
                if self._changed(mailbox):
                    return
            return
        client.idle()
        try:
            deadline, renew_at = time.monotonic() + idle_seconds(), time.monotonic() + renew_every
            while not self.stopping.is_set() and time.monotonic() < deadline:
                responses = client.idle_check(timeout=1)
                if any(len(r) > 1 and r[1] == b"EXISTS" for r in responses):
                    return
                if time.monotonic() >= renew_at:
                    if not self._renew():
                        raise sync.LeaseLost("the lease was taken over")
                    if self._changed(mailbox):
                        return
                    renew_at = time.monotonic() + renew_every
        finally:
            client.idle_done()


class Runner:
    """Keeps one worker thread per enabled mailbox; picks up new and re-enabled ones."""

    def __init__(self, owner: str | None = None, refresh_seconds: float = 10.0):
        self.owner = owner or f"{socket.gethostname()[:40]}-{get_random_string(8)}"
        self.refresh_seconds = refresh_seconds
        self.stopping = threading.Event()
        self.workers: dict[int, MailboxWorker] = {}

    def run(self) -> None:
        log.info("mailbox runner %s started", self.owner)
        try:
            while not self.stopping.is_set():
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - e.g. the database restarting: try again later
                    log.exception("mailbox runner: cannot list mailboxes")
                self.stopping.wait(self.refresh_seconds)
        finally:
            for worker in self.workers.values():
                worker.join(timeout=5)
            connections.close_all()

    def tick(self) -> None:
        close_old_connections()
        for mailbox_id in Mailbox.objects.filter(enabled=True).values_list("pk", flat=True):
            worker = self.workers.get(mailbox_id)
            if worker is None or not worker.is_alive():
                worker = self.workers[mailbox_id] = MailboxWorker(mailbox_id, self.owner, self.stopping)
                worker.start()

    def stop(self) -> None:
        self.stopping.set()


def start_in_serve():
    """HELPDESK_SERVE_RUNNERS entry: run in a daemon thread of `serve`; returns the stop function."""
    if not getattr(settings, "HELPDESK_MAILBOX_RUNNER_IN_SERVE", True):
        return lambda: None
    runner = Runner()
    threading.Thread(target=runner.run, name="mailbox-runner", daemon=True).start()
    return runner.stop
