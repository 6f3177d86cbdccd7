"""Embedded mode: a notification created by another process (the mail pipe, a command, a
separate worker) reaches the agent's open console through the relay in `serve`
(notifications/relay.py), once; those the server made itself are not pushed twice."""

import asyncio
import json
import subprocess
import time

import pytest

from notifications import relay
from notifications.models import Notification
from tests.factories import inbound
from tests.live import embedded_site
from tests.test_notifications import pushed, sink  # noqa: F401 - fixtures
from tests.test_scaleout import ROOT, free_port, wait_for_port
from tests.test_serve import console_socket
from tickets import services
from tickets.models import Ticket


@pytest.mark.django_db
def test_the_relay_pushes_rows_made_elsewhere_and_skips_those_announced_here(agent, bob, pushed, sink):  # noqa: F811
    ticket = Ticket.objects.get(pk=services.ingest(inbound("ada@example.com", "hello")).message.ticket_id)
    start = relay.latest_id()
    sink(lambda: services.assign(ticket, assignee=bob, actor=agent))  # made (and pushed) here
    assert [groups for groups, _message in pushed] == [[f"user-{bob.pk}"]]
    elsewhere = Notification.objects.create(user=agent, kind="mention", ticket=ticket, seq=10_000, actor="Bob")
    pushed.clear()
    last = relay.relay_since(start)
    assert last == elsewhere.pk
    [(groups, message)] = pushed  # the other process's row only
    frame = json.loads(message["frame"])
    assert groups == [f"user-{agent.pk}"] and [item["id"] for item in frame["items"]] == [elsewhere.pk]
    assert frame["unread"] == 1
    pushed.clear()
    assert relay.relay_since(last) == last and pushed == []  # nothing new: one query, no push


@pytest.fixture
def embedded_server(tmp_path):
    env, manage = embedded_site(tmp_path, 0.3)
    port = free_port()
    proc = subprocess.Popen([*manage, "serve", "--port", str(port), "--no-worker"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc)
        yield port, manage, env
    finally:
        proc.terminate()
        proc.wait(timeout=10)


ASSIGN_TO_ALICE = """
from django.contrib.auth import get_user_model
from tickets import services
from tickets.models import Ticket
ticket = Ticket.objects.filter(assignee__isnull=True).order_by("pk").first()
services.assign(ticket, assignee=get_user_model().objects.get(username="alice"), actor=None)
print(ticket.pk)
"""


def test_a_notification_made_by_another_process_reaches_the_open_console_once(embedded_server):
    port, manage, env = embedded_server

    async def scenario():
        async with console_socket(port) as (ws, _client):
            # Another process (as the MTA's pipe is): its push goes nowhere, the row stays.
            made = await asyncio.to_thread(subprocess.run, [*manage, "shell", "-c", ASSIGN_TO_ALICE], env=env,
                                           cwd=ROOT, check=True, capture_output=True, text=True)
            ticket = int(made.stdout.split()[-1])
            notices, deadline = [], time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=1.5))
                except TimeoutError:
                    if notices:
                        break  # a second relay pass (0.3 s) has come and gone: no double
                    continue
                if frame.get("type") == "notice":
                    notices.append(frame)
            return ticket, notices

    ticket, notices = asyncio.run(scenario())
    assert len(notices) == 1, notices
    [item] = notices[0]["items"]
    assert item["kind"] == "assigned" and item["ticket"] == ticket and notices[0]["unread"] >= 1
