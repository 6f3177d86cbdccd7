"""`manage.py serve` in the embedded default (SQLite file + in-memory channel layer): the worker
runs inside the server's process, so what it publishes reaches consoles; one Ctrl-C stops all."""

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest
import websockets

from tests.fakes.channel import sign
from tests.test_scaleout import ROOT, free_port, next_events, wait_for_port


@pytest.fixture
def embedded_server(tmp_path, request):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "HELPDESK_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "PYTHONUNBUFFERED": "1",
           **getattr(request, "param", {})}
    env.pop("REDIS_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    seeded = subprocess.run([*manage, "seed_demo"], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    assert "alice" in seeded.stdout
    port = free_port()
    # Restore the default SIGINT disposition (a background shell would have it ignored), as in a terminal.
    proc = subprocess.Popen([*manage, "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait_for_port(port, proc)
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@contextlib.asynccontextmanager
async def console_socket(port: int):
    """Alice logged in on the served site and her console socket, resumed from the page's seq:
    yields (websocket, her httpx client)."""
    base = f"http://127.0.0.1:{port}"
    client = await asyncio.to_thread(login, base)
    page = await asyncio.to_thread(client.get, "/console/")
    seq = int(re.search(r'data-seq="(\d+)"', page.text).group(1))
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/console/",
                                  additional_headers={"Cookie": cookie, "Origin": base}) as ws:
        await ws.send(json.dumps({"type": "resume", "last_seq": seq}))
        yield ws, client


def post_fake(base: str, external_id: str, sender: str, text: str) -> httpx.Response:
    body = json.dumps({"messages": [{"id": external_id, "from": sender, "text": text}]}).encode()
    return httpx.post(f"{base}/channels/fake/", content=body,
                      headers={"X-Fake-Signature": sign(body), "Content-Type": "application/json"})


def login(base):
    client = httpx.Client(base_url=base)
    page = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post("/login/", data={"username": "alice", "password": "helpdesk-demo",
                                            "csrfmiddlewaretoken": token}, headers={"Referer": base + "/login/"})
    assert response.status_code == 302, response.text
    return client


def test_serve_runs_the_console_and_the_worker_and_one_ctrl_c_stops_both(embedded_server):
    port, proc = embedded_server
    base = f"http://127.0.0.1:{port}"
    queue = login(base).get("/console/")
    assert queue.status_code == 200 and "Invoice question" in queue.text

    async def scenario():
        async with console_socket(port) as (ws, client):
            r = await asyncio.to_thread(post_fake, base, "serve-1", "visitor-77", "are you there?")
            assert r.status_code == 200
            created = (await next_events(ws, 1))[0]
            ticket = created["data"]["ticket"]
            page = await asyncio.to_thread(client.get, f"/console/tickets/{ticket}/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            reply = await asyncio.to_thread(client.post, f"/console/tickets/{ticket}/reply/",
                                            data={"text": "Yes!", "client_id": "serve-r1", "csrfmiddlewaretoken": token},
                                            headers={"Referer": base})
            assert reply.status_code == 302
            # Delivered by the worker thread inside `serve`; its event reaches this socket.
            return (await next_events(ws, 1, kinds=("message.status",)))[0]

    status = asyncio.run(scenario())
    assert status["data"]["status"] == "sent"

    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, output
    assert "Stopping the task worker" in output
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("embedded_server", [{"HELPDESK_WEBHOOK_INGEST": "worker"}], indirect=True)
def test_with_webhooks_answered_once_stored_serve_writes_them_and_the_console_hears_at_once(embedded_server):
    """HELPDESK_WEBHOOK_INGEST=worker in the one-command mode: serve's own ingest thread writes
    the queued payload, and its event reaches the console through the in-memory layer (no
    watchman wait: HELPDESK_EVENT_POLL_SECONDS is 10 s, the test waits at most 5 s)."""
    port, proc = embedded_server

    async def scenario():
        async with console_socket(port) as (ws, _client):
            r = await asyncio.to_thread(post_fake, f"http://127.0.0.1:{port}", "queued-1", "visitor-78", "queued hello")
            assert r.status_code == 200
            return await next_events(ws, 1, kinds=("message.created",), timeout=5)

    [created] = asyncio.run(scenario())
    assert created["data"]["text"] == "queued hello"
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, output
    assert "run `manage.py ingest_worker`" not in output  # serve wrote them itself
