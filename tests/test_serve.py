"""`manage.py serve` in the embedded default (SQLite file + in-memory channel layer): the worker
runs inside the server's process, so what it publishes reaches consoles; one Ctrl-C stops all."""

import asyncio
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
def embedded_server(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "HELPDESK_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "PYTHONUNBUFFERED": "1"}
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
    client = login(base)
    queue = client.get("/console/")
    assert queue.status_code == 200 and "Invoice question" in queue.text
    seq = int(re.search(r'data-seq="(\d+)"', queue.text).group(1))
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/console/",
                                      additional_headers={"Cookie": cookie, "Origin": base}) as ws:
            await ws.send(json.dumps({"type": "resume", "last_seq": seq}))
            body = json.dumps({"messages": [{"id": "serve-1", "from": "visitor-77", "text": "are you there?"}]}).encode()
            r = await asyncio.to_thread(httpx.post, f"{base}/channels/fake/", content=body,
                                        headers={"X-Fake-Signature": sign(body), "Content-Type": "application/json"})
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
