"""Live chat under load: N concurrent visitor websockets on ONE Daphne process.

    .venv/bin/python bench/livechat_load.py [--visitors 1000] [--messages 500] [--rate 10]

Starts `manage.py serve` (Daphne + worker, embedded mode: SQLite + in-memory channel layer) on
port 8420 with a fresh database, creates the visitors' sessions, then opens N websockets that
authenticate and resume exactly like widget.js does. It reports:
  * memory per idle visitor: the server's RSS growth while the N sockets connect, divided by N
    (a warm-up batch is connected first so code and caches are already loaded);
  * message round trip: a visitor sends a message and waits for it to come back through the event
    log (send -> ingest -> commit -> bell -> catch-up -> event), p50/p99 over --messages sends
    paced at --rate per second from random visitors while all N stay connected.
Targets (issue #6): <= 40 KB per idle visitor; p99 round trip <= 100 ms with 1,000 visitors.
The load generator runs on the same machine and competes with the server for CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import websockets  # noqa: E402

from tests.live import LiveServer, shifted_port  # noqa: E402

PORT = shifted_port(8420)
WARMUP = 50


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def make_tokens(server: LiveServer, count: int) -> list[str]:
    out = server.shell(
        "import json\n"
        "from livechat.models import Inbox\n"
        "from livechat import visitors\n"
        "inbox = Inbox.objects.get(key='demo')\n"
        f"print(json.dumps([visitors.make_token(visitors.open_session(inbox)) for _ in range({count})]))"
    )
    return json.loads(out.splitlines()[-1])


class Visitor:
    def __init__(self, server: LiveServer, token: str):
        self.server, self.token = server, token
        self.ws = None
        self.waiting: dict[str, asyncio.Future] = {}  # client_id -> future of the echoed event

    async def connect(self):
        for attempt in range(5):  # like the widget: a refused handshake is retried with backoff
            try:
                return await self._connect()
            except (OSError, websockets.exceptions.WebSocketException):
                await asyncio.sleep(0.2 * 2 ** attempt)
        return await self._connect()

    async def _connect(self):
        self.ws = await websockets.connect(
            self.server.url("/ws/chat/demo/").replace("http", "ws"),
            origin=self.server.url("").rstrip("/"), max_queue=64, ping_interval=None)
        await self.ws.send(json.dumps({"type": "auth", "token": self.token, "history": True}))
        ready = json.loads(await self.ws.recv())
        assert ready["type"] == "ready", ready
        await self.ws.send(json.dumps({"type": "resume", "last_seq": ready["history"]["seq"]}))
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        async for raw in self.ws:
            frame = json.loads(raw)
            if frame.get("type") == "event" and frame.get("kind") == "message.created":
                future = self.waiting.pop(frame["data"]["text"], None)
                if future and not future.done():
                    future.set_result(time.perf_counter())
            elif frame.get("type") == "error":
                future = self.waiting.pop(frame.get("client_id"), None)
                if future and not future.done():
                    future.set_exception(RuntimeError(frame["error"]))

    async def round_trip(self) -> float:
        client_id = uuid.uuid4().hex
        future = asyncio.get_running_loop().create_future()
        self.waiting[client_id] = future
        started = time.perf_counter()
        await self.ws.send(json.dumps({"type": "send", "client_id": client_id, "text": client_id}))
        return (await asyncio.wait_for(future, timeout=30)) - started


async def connect_all(visitors, batch=25):
    for start in range(0, len(visitors), batch):
        await asyncio.gather(*(v.connect() for v in visitors[start:start + batch]))


async def run(args):
    env = {"LIVECHAT_RATE_LIMIT_PER_MINUTE": "1000", "HELPDESK_LOG_LEVEL": "WARNING"}
    if args.database_url:  # e.g. a scratch PostgreSQL database (it is migrated, then written to)
        env["DATABASE_URL"] = args.database_url
    profile = ("-m", "cProfile", "-o", args.profile) if args.profile else ()
    with LiveServer(port=PORT, setup=[["seed_livechat"]], env=env, python_args=profile,
                    worker_interval=0.5) as server:
        pid = server.process.pid  # manage.py runs in this very process (no wrapper)
        tokens = make_tokens(server, args.visitors + WARMUP)
        warm = [Visitor(server, t) for t in tokens[:WARMUP]]
        await connect_all(warm)
        for v in warm[:10]:
            await v.round_trip()
        await asyncio.sleep(1)
        before = rss_kb(pid)
        visitors = [Visitor(server, t) for t in tokens[WARMUP:]]
        t0 = time.perf_counter()
        await connect_all(visitors)
        connect_seconds = time.perf_counter() - t0
        await asyncio.sleep(2)
        after = rss_kb(pid)
        per_visitor = (after - before) / args.visitors

        times = []

        failures = []

        async def one():
            try:
                times.append(await random.choice(visitors).round_trip())
            except (RuntimeError, TimeoutError, websockets.exceptions.ConnectionClosed) as exc:
                failures.append(repr(exc))

        tasks = []
        for _ in range(args.messages):
            tasks.append(asyncio.ensure_future(one()))
            await asyncio.sleep(1 / args.rate)
        await asyncio.gather(*tasks)
        if failures:
            print(f"{len(failures)} sends failed, e.g. {failures[:3]}; server log tail:")
            print("\n".join(server.log.read_text(errors="replace").splitlines()[-40:]))
        times.sort()
        p50 = statistics.median(times) * 1000
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
        for v in warm + visitors:
            await v.ws.close()

    print(f"live chat: {args.visitors} visitor websockets on one Daphne process "
          f"(connected in {connect_seconds:.1f} s)")
    print(f"  memory per idle visitor: {per_visitor:.1f} KB   (target <= 40 KB; server RSS "
          f"{before / 1024:.0f} -> {after / 1024:.0f} MB)   {'OK' if per_visitor <= 40 else 'MISSED'}")
    print(f"  round trip send -> echoed event, {args.messages} sends at {args.rate}/s: "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms   (target p99 <= 100 ms)   {'OK' if p99 <= 100 else 'MISSED'}")
    return 0 if per_visitor <= 40 and p99 <= 100 else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=500)
    # 10/s across 1,000 visitors is one message per visitor every 100 s: a busy site. At 50/s
    # one 2-core machine (server and this load generator together) saturates: README figures.
    parser.add_argument("--rate", type=float, default=10, help="sends per second across all visitors")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file (embedded mode)")
    parser.add_argument("--profile", default="", help="write a cProfile of the server to this file")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
