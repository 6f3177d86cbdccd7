"""The runner for real: `manage.py serve` starts it, it waits in IMAP IDLE, and a mail APPENDed
to Dovecot reaches an open console over its websocket; a runner thread in-process does the
same against the test database and lets go of its lease when stopped."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import secrets
import threading
import time

import pytest
import websockets

from mailboxes.models import Mailbox
from mailboxes.runner import Runner
from tests import mailbox_helpers
from tests.live import LiveServer
from tests.mailbox_helpers import make_mailbox
from tests.mailserver import Dovecot, free_port, mail
from tests.test_scaleout import next_events
from tickets.models import Message

dovecot = mailbox_helpers.dovecot  # fixture

CREATE = """
from mailboxes.models import Mailbox
m = Mailbox(name="Live", address="{account}", imap_host="127.0.0.1", imap_port={port}, imap_security="none",
            username="{account}")
m.set_password("{password}")
m.save()
"""
SESSION = """
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create_superuser("boss", password="pw")
session = SessionStore()
session["_auth_user_id"] = str(user.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


def last_line(output: str) -> str:
    """What the snippet printed (Django's shell may print its auto-imports first)."""
    return output.strip().splitlines()[-1] if output.strip() else ""


@contextlib.contextmanager
def running(*owners: str):
    """Runners (as separate `run_mailboxes` processes would be) in threads; stopped on exit."""
    runners = [Runner(owner=owner, refresh_seconds=0.2) for owner in owners]
    threads = [threading.Thread(target=r.run, daemon=True) for r in runners]
    for thread in threads:
        thread.start()
    try:
        yield threads
    finally:
        for r in runners:
            r.stop()
        for thread in threads:
            thread.join(timeout=15)


def wait_until(predicate, timeout=30.0, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_serve_runs_the_mailbox_runner_and_an_open_console_sees_new_mail(dovecot):
    account = f"live-{secrets.token_hex(3)}@example.com"
    code = CREATE.format(account=account, port=dovecot.port, password=Dovecot.PASSWORD)
    with LiveServer(port=free_port(), setup=[["shell", "-c", code]]) as live:
        session = last_line(live.shell(SESSION))
        synced = wait_until(lambda: last_line(live.shell(
            "from mailboxes.models import Mailbox; print(Mailbox.objects.get().last_success_at is not None)")) == "True")
        assert synced, live.log.read_text()

        async def scenario():
            url = f"ws://127.0.0.1:{live.port}/ws/console/"
            headers = {"Cookie": f"sessionid={session}", "Origin": live.url("")[:-1]}
            async with websockets.connect(url, additional_headers=headers) as ws:
                await ws.send(json.dumps({"type": "resume", "last_seq": 0}))
                await asyncio.sleep(0.3)
                await asyncio.to_thread(dovecot.append, account, mail(1, to=account, subject="Pushed live"))
                return await next_events(ws, 1, timeout=30)

        [event] = asyncio.run(scenario())
        assert event["kind"] == "message.created"
        assert last_line(live.shell("from tickets.models import Message; print(Message.objects.get().subject)")) == "Pushed live"


@pytest.mark.django_db(transaction=True)
def test_a_runner_thread_imports_new_mail_through_idle_and_releases_its_lease(dovecot, settings):
    settings.HELPDESK_MAILBOX_POLL_SECONDS = 3600  # arrival within the test's wait means IDLE, not polling
    account = f"idle-{secrets.token_hex(3)}@example.com"
    mailbox = make_mailbox(dovecot, account)
    with running("thread-test") as [thread]:
        assert wait_until(lambda: Mailbox.objects.get(pk=mailbox.pk).last_success_at is not None)
        assert Mailbox.objects.get(pk=mailbox.pk).lease_owner == "thread-test"
        dovecot.append(account, mail(7, to=account, subject="Via IDLE"))
        assert wait_until(lambda: Message.objects.filter(subject="Via IDLE").exists())
    assert not thread.is_alive()
    assert Mailbox.objects.get(pk=mailbox.pk).lease_owner == ""
    assert Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_runners_on_one_mailbox_import_each_mail_once(dovecot, settings):
    """Two runners (as two `run_mailboxes` processes would) compete for one mailbox: the lease
    lets one import; the other waits; every mail is there once."""
    settings.HELPDESK_MAILBOX_LEASE_SECONDS = 3
    account = f"race-{secrets.token_hex(3)}@example.com"
    dovecot.append(account, *(mail(n, to=account) for n in range(60)))
    mailbox = make_mailbox(dovecot, account)
    with running("proc-0", "proc-1"):
        assert wait_until(lambda: Message.objects.count() >= 60, timeout=60)
        dovecot.append(account, *(mail(n, to=account) for n in range(60, 70)))
        assert wait_until(lambda: Message.objects.count() >= 70, timeout=60)
    from tickets.models import InboundPayload

    assert Message.objects.count() == 70 and InboundPayload.objects.count() == 70
    assert Mailbox.objects.get(pk=mailbox.pk).failures == 0


@pytest.mark.django_db(transaction=True)
def test_a_runner_waiting_in_idle_picks_up_new_settings(dovecot, settings):
    settings.HELPDESK_MAILBOX_LEASE_SECONDS = 3  # renewed (and settings re-read) every second
    account = f"change-{secrets.token_hex(3)}@example.com"
    mailbox = make_mailbox(dovecot, account)
    with running("settings-test"):
        assert wait_until(lambda: Mailbox.objects.get(pk=mailbox.pk).last_success_at is not None)
        dovecot.append(account, mail(1, to=account, subject="In the archive"), folder="Archive")
        mailbox = Mailbox.objects.get(pk=mailbox.pk)
        mailbox.folder = "Archive"
        mailbox.save()  # what the settings screen does
        assert wait_until(lambda: Message.objects.filter(subject="In the archive").exists())


@pytest.mark.django_db(transaction=True)
def test_without_idle_the_runner_polls(settings):
    mailbox_helpers.require_dovecot()
    settings.HELPDESK_MAILBOX_POLL_SECONDS = 1
    with Dovecot(idle=False) as plain:
        account = f"poll-{secrets.token_hex(3)}@example.com"
        client = plain.client(account)
        assert not client.has_capability("IDLE")
        client.logout()
        mailbox = make_mailbox(plain, account)
        with running("poll-test"):
            assert wait_until(lambda: Mailbox.objects.get(pk=mailbox.pk).last_success_at is not None)
            plain.append(account, mail(1, to=account, subject="Polled"))
            assert wait_until(lambda: Message.objects.filter(subject="Polled").exists())


@pytest.mark.django_db
def test_run_mailboxes_once_reports_each_mailbox_and_fails_on_errors(dovecot):
    from django.core.management import CommandError, call_command

    good = f"once-{secrets.token_hex(3)}@example.com"
    dovecot.append(good, mail(1, to=good), mail(2, to=good))
    ok = make_mailbox(dovecot, good)
    out = io.StringIO()
    call_command("run_mailboxes", "--once", "--mailbox", str(ok.pk), stdout=out)
    assert f"{good}: 2 new mail(s) imported" in out.getvalue()

    bad = make_mailbox(dovecot, f"bad-{secrets.token_hex(3)}@example.com", password="wrong")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 mailbox\\(es\\) failed"):
        call_command("run_mailboxes", "--once", stdout=io.StringIO(), stderr=err)
    assert "refused the user name or password" in err.getvalue()
    assert Message.objects.count() == 2 and Mailbox.objects.get(pk=bad.pk).failures == 1
