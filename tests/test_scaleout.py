"""Scale-out on one machine: two Daphne processes and a worker sharing PostgreSQL and Redis.
A websocket client on process A receives, in order, the events of messages ingested through
process B; after a forced disconnect it resumes with no gap and no duplicate."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.fakes.channel import sign
from tickets import events

pytestmark = [pytest.mark.scaled, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on {port} exited: {process.stdout.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {port}")


@pytest.fixture
def cluster(request):
    """Two `serve --no-worker` and a task worker; request.param may add {"env": {...},
    "processes": [[manage.py arguments], ...]} (the ingest workers)."""
    extra = getattr(request, "param", {})
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "HELPDESK_VAR_DIR": str(settings.VAR_DIR),
        "PYTHONUNBUFFERED": "1",
        **extra.get("env", {}),
    }
    ports = [free_port(), free_port()]
    manage = [sys.executable, str(ROOT / "manage.py")]
    procs = [subprocess.Popen([*manage, "serve", "--no-worker", "--port", str(p)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for p in ports]
    procs.append(subprocess.Popen([*manage, "db_worker", "--interval", "0.2", "--no-startup-delay", "--queue-name", "*"],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    procs += [subprocess.Popen([*manage, *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
              for args in extra.get("processes", [])]
    try:
        for port, proc in zip(ports, procs, strict=False):
            wait_for_port(port, proc)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def post_message(port, external_id, text):
    body = json.dumps({"messages": [{"id": external_id, "from": "visitor-scale", "text": text}]}).encode()
    response = httpx.post(f"http://127.0.0.1:{port}/channels/fake/", content=body,
                          headers={"X-Fake-Signature": sign(body), "Content-Type": "application/json"})
    assert response.status_code == 200, response.text


async def next_events(ws, count, kinds=("message.created",), timeout=10):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        raw = await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.monotonic()))
        message = json.loads(raw)
        got += [e for e in unbatch(message) if e["type"] == "event" and e["kind"] in kinds]
    return got


def unbatch(message):
    """A change's events may come as one frame ({"type": "events", "events": [...]})."""
    return message["events"] if message["type"] == "events" else [message]


def test_events_ingested_on_b_reach_an_agent_on_a_in_order_across_a_reconnect(cluster, agent):
    port_a, port_b = cluster
    client = Client()
    client.force_login(agent)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    url = f"ws://127.0.0.1:{port_a}/ws/console/"
    headers = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{port_a}"}
    start = events.current_seq()

    async def scenario():
        seen = []
        async with websockets.connect(url, additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "resume", "last_seq": start}))
            await asyncio.sleep(0.3)
            for i in range(5):
                await asyncio.to_thread(post_message, port_b, f"live-{i}", f"live {i}")
            seen += await next_events(ws, 5)
        # Forced disconnect: two messages arrive on B while the agent is away.
        await asyncio.to_thread(post_message, port_b, "away-1", "away 1")
        await asyncio.to_thread(post_message, port_b, "away-2", "away 2")
        async with websockets.connect(url, additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "resume", "last_seq": seen[-1]["seq"]}))
            seen += await next_events(ws, 2)
            await asyncio.to_thread(post_message, port_b, "back-1", "back 1")
            seen += await next_events(ws, 1)
            # Nothing else (no duplicate) within a short while.
            extra = []
            try:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=1.0))
                    extra += [e for e in unbatch(message) if e["type"] == "event" and e["kind"] == "message.created"]
            except TimeoutError:
                pass
        return seen, extra

    seen, extra = asyncio.run(scenario())
    texts = [e["data"]["text"] for e in seen]
    assert texts == [f"live {i}" for i in range(5)] + ["away 1", "away 2", "back 1"]
    seqs = [e["seq"] for e in seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert extra == []


def test_a_reply_sent_through_b_is_delivered_by_the_worker_and_a_sees_the_status(cluster, agent):
    port_a, port_b = cluster
    post_message(port_b, "r-1", "please reply")
    client = Client()
    client.force_login(agent)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    from tickets.models import Message

    ticket_id = Message.objects.get(external_id="r-1").ticket_id
    start = events.current_seq()

    async def scenario():
        url = f"ws://127.0.0.1:{port_a}/ws/console/"
        async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port_a}"}) as ws:
            await ws.send(json.dumps({"type": "resume", "last_seq": start}))
            csrf_client = httpx.Client(base_url=f"http://127.0.0.1:{port_b}", headers={"Cookie": cookie})
            page = await asyncio.to_thread(csrf_client.get, f"/console/tickets/{ticket_id}/")
            assert page.status_code == 200
            token = page.cookies.get("csrftoken") or csrf_client.cookies.get("csrftoken")
            response = await asyncio.to_thread(
                csrf_client.post, f"/console/tickets/{ticket_id}/reply/",
                data={"text": "Hello from B", "client_id": "scale-1", "csrfmiddlewaretoken": token},
                headers={"Cookie": f"{cookie}; csrftoken={token}", "Referer": f"http://127.0.0.1:{port_b}/"})
            assert response.status_code == 302, response.text
            return await next_events(ws, 1, kinds=("message.status",))

    status = asyncio.run(scenario())
    assert status[0]["data"]["status"] == "sent"


@pytest.mark.parametrize("cluster", [{"env": {"HELPDESK_WEBHOOK_INGEST": "worker"},
                                      "processes": [["ingest_worker", "--batch", "4"]] * 2}], indirect=True)
def test_webhooks_answered_once_stored_are_written_once_by_two_ingest_workers_and_heard_on_a(cluster, agent):
    """The scaled shape of HELPDESK_WEBHOOK_INGEST=worker: both servers answer once the payload
    is stored, two `ingest_worker` processes write them (each payload claimed by one), and the
    console on A hears every message once, through Redis."""
    from tickets.models import InboundPayload, Message

    port_a, port_b = cluster
    client = Client()
    client.force_login(agent)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    start = events.current_seq()

    async def scenario():
        url = f"ws://127.0.0.1:{port_a}/ws/console/"
        async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port_a}"}) as ws:
            await ws.send(json.dumps({"type": "resume", "last_seq": start}))
            await asyncio.sleep(0.3)
            await asyncio.gather(*(asyncio.to_thread(post_message, (port_a, port_b)[i % 2], f"q-{i}", f"queued {i}")
                                   for i in range(12)))
            seen = await next_events(ws, 12, timeout=20)
            try:  # nothing doubled arrives after
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=1.0))
                    seen += [e for e in unbatch(message) if e["type"] == "event" and e["kind"] == "message.created"]
            except TimeoutError:
                pass
            return seen

    seen = asyncio.run(scenario())
    assert sorted(e["data"]["text"] for e in seen) == sorted(f"queued {i}" for i in range(12))
    assert Message.objects.filter(external_id__startswith="q-").count() == 12
    assert set(InboundPayload.objects.filter(adapter="fake").values_list("state", flat=True)) == {"processed"}
