"""HTTP at team scale (issue 20): requests run on a few long-lived threads that keep their
database connection (helpdesk/http_threads.py), and `manage.py serve --http-workers N` serves
one port from N processes (helpdesk/pool.py) whose webhooks reach a console socket on any of
them: through Redis at once (scaled), through the watchman's read of the event log (embedded)."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import websockets
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.db import connection
from django.db.backends.signals import connection_created
from django.test import Client

from helpdesk.http_threads import PersistentThreads
from tests.fakes.channel import sign
from tests.live import embedded_site, end_process, shifted_port
from tests.test_scaleout import ROOT, next_events, wait_for_port
from tests.test_serve import login
from tickets import events

WEBHOOK = "/channels/fake/"


def webhook_body(external_id: str, text: str, sender: str = "visitor-pool") -> bytes:
    return json.dumps({"messages": [{"id": external_id, "from": sender, "text": text}]}).encode()


async def post_through(app, body: bytes) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": WEBHOOK, "raw_path": WEBHOOK.encode(), "query_string": b"",
             "root_path": "", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000),
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode()),
                         (b"x-fake-signature", sign(body).encode())]}
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(10)
    await communicator.receive_output(10)  # the body
    await communicator.wait(10)
    return start["status"]


def connections_opened_by(app, count: int, opened_connections: list) -> list[str]:
    """POST `count` signed webhooks through `app`; the names of the threads that opened a
    database connection meanwhile (the connections are added to `opened_connections`)."""
    opened, lock = [], threading.Lock()

    def record(sender, connection, **kwargs):
        with lock:
            opened.append(threading.current_thread().name)
            opened_connections.append(connection.connection)

    connection_created.connect(record)
    try:
        async def scenario():
            for i in range(count):
                assert await post_through(app, webhook_body(f"threads-{id(app)}-{i}", f"hello {i}")) == 200
        asyncio.run(scenario())
    finally:
        connection_created.disconnect(record)
    return opened


@pytest.mark.django_db(transaction=True)
def test_requests_reuse_a_long_lived_thread_and_its_database_connection():
    held = []
    pooled = PersistentThreads(get_asgi_application(), 1)
    if connection.settings_dict.get("OPTIONS", {}).get("pool"):
        # PostgreSQL's pool (DATABASE_POOL_SIZE): a request borrows a connection and gives it
        # back when it ends, so the pool is what reuses them; the requests still run on the one
        # long-lived thread. (Django alone's leg would hold pool slots in `held`.)
        try:
            assert set(connections_opened_by(pooled, 5, [])) == {"http-0_0"}
        finally:
            for executor in pooled.executors:
                executor.shutdown()
        return
    try:
        # Django alone: every request in a new thread, so a new connection per request.
        assert len(connections_opened_by(PersistentThreads(get_asgi_application(), 0), 5, held)) == 5
        opened = connections_opened_by(pooled, 5, held)
        assert len(opened) == 1 and opened[0].startswith("http-0"), opened
        assert connections_opened_by(pooled, 5, held) == []  # and the next requests reuse it
    finally:
        for executor in pooled.executors:
            executor.shutdown()
        for raw in held:  # left open by threads that are gone (the test database must be dropped)
            raw.close()


def test_requests_go_to_the_least_busy_thread():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["path"])
        await asyncio.sleep(0.05)

    pooled = PersistentThreads(app, 2)

    async def scenario():
        requests = [pooled({"type": "http", "path": f"/{i}"}, None, None) for i in range(4)]
        waiting = asyncio.gather(*requests)
        await asyncio.sleep(0.01)
        busy_while_running = list(pooled.busy)
        await waiting
        return busy_while_running

    assert asyncio.run(scenario()) == [2, 2]
    assert pooled.busy == [0, 0] and sorted(seen) == ["/0", "/1", "/2", "/3"]
    # Websockets are not Django's HTTP handler: passed straight through.
    asyncio.run(pooled({"type": "websocket", "path": "/ws"}, None, None))
    assert pooled.busy == [0, 0] and seen[-1] == "/ws"


def test_a_request_that_holds_its_thread_up_does_not_hold_up_the_next_ones():
    """A slow view (a CSV export, a mail server that does not answer) on the only thread: once it
    has finished nothing for `stalled_after`, new requests get a thread of their own."""
    from asgiref.sync import sync_to_async

    ran, finished = {}, []

    def view(path):
        ran[path] = threading.current_thread().name
        time.sleep(1.0 if path == "/slow" else 0.01)
        finished.append(path)

    async def app(scope, receive, send):
        await sync_to_async(view)(scope["path"])  # thread-sensitive, as Django runs sync views

    pooled = PersistentThreads(app, 1, stalled_after=0.2)

    async def scenario():
        slow = asyncio.ensure_future(pooled({"type": "http", "path": "/slow"}, None, None))
        await asyncio.sleep(0.05)
        queued = asyncio.ensure_future(pooled({"type": "http", "path": "/queued"}, None, None))  # not yet stalled
        await asyncio.sleep(0.3)
        await pooled({"type": "http", "path": "/fresh"}, None, None)  # stalled: a thread of its own
        fresh_done_first = finished == ["/fresh"]
        await asyncio.gather(slow, queued)
        return fresh_done_first

    try:
        assert asyncio.run(scenario()), finished
        assert ran["/slow"].startswith("http-0") and ran["/queued"].startswith("http-0")
        assert not ran["/fresh"].startswith("http-0") and pooled.overflow == 1
        assert finished == ["/fresh", "/slow", "/queued"] and pooled.busy == [0]
    finally:
        pooled.executors[0].shutdown()


def start_pool(env: dict, port: int, workers: int = 2) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port),
                             "--http-workers", str(workers), "--worker-interval", "0.2"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def members(pool: subprocess.Popen, count: int = 2) -> list[int]:
    """The pool's server processes, once it has started `count` (it binds the port first)."""
    deadline = time.monotonic() + 30
    while True:
        pids = [int(pid) for pid in Path(f"/proc/{pool.pid}/task/{pool.pid}/children").read_text().split()]
        if len(pids) >= count or time.monotonic() > deadline:
            return pids
        time.sleep(0.1)


async def webhooks_reach_the_console(port: int, cookie: str, start: int, count: int, timeout: float,
                                     elsewhere=None) -> list[dict]:
    """Open a console socket on the pool, POST `count` webhooks to it (then call `elsewhere`,
    which handles one more in another process); the message events the socket receives."""
    base = f"http://127.0.0.1:{port}"
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/console/",
                                  additional_headers={"Cookie": cookie, "Origin": base}) as ws:
        await ws.send(json.dumps({"type": "resume", "last_seq": start}))
        await asyncio.sleep(0.3)
        for i in range(count):
            body = webhook_body(f"pool-{i}", f"pool {i}", sender=f"visitor-pool-{i}")
            # A new connection per webhook: the kernel hands each to either process.
            response = await asyncio.to_thread(
                httpx.post, f"{base}{WEBHOOK}", content=body,
                headers={"X-Fake-Signature": sign(body), "Content-Type": "application/json"})
            assert response.status_code == 200, response.text
        if elsewhere is not None:
            await asyncio.to_thread(elsewhere)
            count += 1
        return await next_events(ws, count, timeout=timeout)


def stop_pool(pool: subprocess.Popen, pids: list[int]) -> str:
    pool.send_signal(signal.SIGINT)
    output, _ = pool.communicate(timeout=30)
    assert pool.returncode == 0, output
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids), output
    return output


def joined(pool: subprocess.Popen, port: int, env: dict, manage: list[str]) -> tuple[str, list[int], int]:
    """Once an embedded pool listens: alice's session cookie, its server processes, the log's seq."""
    wait_for_port(port, pool)
    client = login(f"http://127.0.0.1:{port}")
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    pids = members(pool)
    start = int(subprocess.run([*manage, "shell", "-c", "from tickets.events import current_seq; "
                                "print(current_seq())"], env=env, cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout.split()[-1])
    return cookie, pids, start


def test_a_webhook_on_any_process_of_an_embedded_pool_reaches_a_console_on_another(tmp_path):
    """Embedded default (SQLite file, in-memory layer) with two processes: a process's sockets
    hear its own doorbells at once and the other's within the watchman's poll."""
    env, manage = embedded_site(tmp_path, 0.5)
    port = shifted_port(8436)
    pool, pids = start_pool(env, port), []
    try:
        cookie, pids, start = joined(pool, port, env, manage)
        assert len(pids) == 2

        def elsewhere():
            # A process with no sockets at all (as the MTA pipe): only the watchman can tell the pool.
            code = ("import json; from django.test import Client; from tests.fakes.channel import sign; "
                    "body = json.dumps({'messages': [{'id': 'pool-x', 'from': 'visitor-x', 'text': 'elsewhere'}]})"
                    ".encode(); print(Client(HTTP_HOST='127.0.0.1').post('/channels/fake/', body, "
                    "content_type='application/json', HTTP_X_FAKE_SIGNATURE=sign(body)).status_code)")
            result = subprocess.run([*manage, "shell", "-c", code], env=env, cwd=ROOT, check=True,
                                    capture_output=True, text=True)
            assert result.stdout.split()[-1:] == ["200"], result.stdout + result.stderr

        got = asyncio.run(webhooks_reach_the_console(port, cookie, start, 8, timeout=30, elsewhere=elsewhere))
        assert [e["data"]["text"] for e in got] == [f"pool {i}" for i in range(8)] + ["elsewhere"]
        assert [e["seq"] for e in got] == sorted({e["seq"] for e in got})  # in order, none twice
    finally:
        if pool.poll() is None:
            output = stop_pool(pool, pids)
            assert "set REDIS_URL" in output  # the operator is told how changes cross processes
            assert "Helpdesk pool: 2 server processes" in output
        else:
            end_process(pool)


@pytest.mark.scaled
@pytest.mark.django_db(transaction=True)
def test_a_webhook_on_any_process_of_a_scaled_pool_reaches_a_console_at_once(agent):
    """PostgreSQL + Redis: every process hears every doorbell (no watchman needed: its poll is
    switched off here, so only the doorbell can deliver)."""
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "DJANGO_SECRET_KEY": settings.SECRET_KEY, "HELPDESK_VAR_DIR": str(settings.VAR_DIR),
           "PYTHONUNBUFFERED": "1", "HELPDESK_EVENT_POLL_SECONDS": "0"}
    client = Client()
    client.force_login(agent)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    port = shifted_port(8437)
    pool, pids = start_pool(env, port), []
    try:
        wait_for_port(port, pool)
        pids = members(pool)
        assert len(pids) == 2
        got = asyncio.run(webhooks_reach_the_console(port, cookie, events.current_seq(), 8, timeout=10))
        assert [e["data"]["text"] for e in got] == [f"pool {i}" for i in range(8)]
        output = stop_pool(pool, pids)
        assert "set REDIS_URL" not in output
    finally:
        if pool.poll() is None:
            end_process(pool)


def test_with_webhooks_answered_once_stored_the_pools_first_process_writes_what_any_process_queued(tmp_path):
    """HELPDESK_WEBHOOK_INGEST=worker with `serve --http-workers 2`: the first process (the one
    with the task worker) writes what either process queued; the other says nothing about
    running `ingest_worker`, since nothing is left for one."""
    env, manage = embedded_site(tmp_path, 0.5)
    env["HELPDESK_WEBHOOK_INGEST"] = "worker"
    port = shifted_port(8438)
    pool, pids = start_pool(env, port), []
    try:
        cookie, pids, start = joined(pool, port, env, manage)
        got = asyncio.run(webhooks_reach_the_console(port, cookie, start, 6, timeout=30))
        assert sorted(e["data"]["text"] for e in got) == [f"pool {i}" for i in range(6)]
        assert len({e["seq"] for e in got}) == 6  # none twice
    finally:
        output = stop_pool(pool, pids) if pool.poll() is None else end_process(pool) or ""
    assert "run `manage.py ingest_worker`" not in output, output
