"""Fan-out: one inbound SMS to N open agent consoles, against a bare `group_send` to N sockets.

    .venv/bin/python bench/realtime_fanout.py [--consoles 100 1000] [--layers memory redis] [--messages 20]

For each channel layer (in-memory; Redis when REDIS_URL answers, default redis://127.0.0.1:6379/0)
and each N, two servers run side by side: the helpdesk (`manage.py serve`, fresh SQLite) with N
console websockets logged in as agents (session cookies of up to 200 agents), and a minimal
Channels app under Daphne (bench/_bare_fanout.py) with N plain sockets. Interleaved, one at a
time: a signed Twilio SMS webhook is POSTed to the helpdesk and the time until each console has
the `message.created` event is recorded; then the bare app is asked for one `group_send` of a
frame of the same size. Printed: p50/p99 of every delivery, the ratio of p99s (target <= 1.5x),
lost or doubled deliveries, the webhook's own response time, and the server's memory per idle
socket against the bare app's (target <= 1.3x). The load generator shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import websockets  # noqa: E402

from bench.livechat_load import rss_kb  # noqa: E402
from tests.fakes.twilio import form_body, sign  # noqa: E402
from tests.live import LiveServer, _port_open, shifted_port  # noqa: E402

TOKEN, SID = "bench-twilio-token", "AC" + "0" * 32
WARMUP = 20


def agent_cookies(server: LiveServer, agents: int) -> list[str]:
    out = server.shell(
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.test import Client\n"
        "from tickets.management.commands.seed_demo import ensure_agents_group\n"
        "group, cookies = ensure_agents_group(), []\n"
        f"for i in range({agents}):\n"
        "    user = get_user_model().objects.create_user(f'bench{i}', password=None)\n"
        "    user.groups.add(group)\n"
        "    client = Client(); client.force_login(user)\n"
        "    cookies.append(client.cookies['sessionid'].value)\n"
        "print(json.dumps(cookies))")
    return json.loads(out.splitlines()[-1])


class Socket:
    """One websocket; `arrived[marker]` is when (and how often) a frame with that marker came."""

    def __init__(self, url, origin, headers, marker_of):
        self.url, self.origin, self.headers, self.marker_of = url, origin, headers, marker_of
        self.arrived: dict[str, list[float]] = {}
        self.size, self.closed = 0, ""

    async def connect(self, first=None):
        for attempt in range(6):
            try:
                self.ws = await websockets.connect(self.url, origin=self.origin, additional_headers=self.headers,
                                                   max_queue=None, ping_interval=None, open_timeout=60)
                break
            except (OSError, websockets.exceptions.WebSocketException):
                await asyncio.sleep(0.2 * 2 ** attempt)
        else:
            raise RuntimeError(f"could not connect to {self.url}")
        if first:
            await self.ws.send(json.dumps(first))
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        try:
            async for raw in self.ws:
                marker = self.marker_of(raw)
                if marker:
                    self.arrived.setdefault(marker, []).append(time.perf_counter())
                    self.size = len(raw)
        except (websockets.exceptions.ConnectionClosed, RuntimeError) as exc:
            self.closed = repr(exc)


def console_marker(raw):
    frame = json.loads(raw)
    for event in frame["events"] if frame.get("type") == "events" else [frame]:
        if event.get("type") == "event" and event.get("kind") == "message.created":
            return (event.get("data") or {}).get("text")
    if frame.get("type") == "reload":
        raise RuntimeError(f"a console was told to reload: {frame}")
    return None


def bare_marker(raw):
    return json.loads(raw).get("marker")


async def connect_all(sockets, first=None, batch=50):
    for start in range(0, len(sockets), batch):
        await asyncio.gather(*(s.connect(first) for s in sockets[start:start + batch]))


async def wait_for(sockets, marker, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(marker in s.arrived for s in sockets):
            return
        await asyncio.sleep(0.005)


def post(url, body=b"", headers=None):
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return response.status


def sms(i, marker):
    return {"SmsMessageSid": f"SM{i:032x}", "MessageSid": f"SM{i:032x}", "NumMedia": "0", "Body": marker,
            "To": "+15005550006", "From": f"+1415555{i % 300:04d}", "AccountSid": SID, "NumSegments": "1",
            "ApiVersion": "2010-04-01"}


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


class Bare:
    def __init__(self, port, env):
        self.port = port
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "bench._bare_fanout:application"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not _port_open("127.0.0.1", port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the bare app did not start")
            time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


async def one_run(layer_env, consoles, messages, serial, detail=False):
    env = {"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": SID,
           "HELPDESK_LOG_LEVEL": "WARNING", **layer_env}
    port, bare_port = shifted_port(8432), shifted_port(8433)
    bare_env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | layer_env
    with LiveServer(port=port, env=env) as server:
        bare = Bare(bare_port, bare_env)
        try:
            cookies = agent_cookies(server, min(consoles + WARMUP, 200))
            ws_url, origin = f"ws://127.0.0.1:{port}/ws/console/", f"http://127.0.0.1:{port}"
            resume = {"type": "resume", "last_seq": 0}

            def console(i):
                return Socket(ws_url, origin, {"Cookie": f"sessionid={cookies[i % len(cookies)]}"}, console_marker)

            def plain():
                return Socket(f"ws://127.0.0.1:{bare_port}/ws/", None, {}, bare_marker)

            async def project_send(sockets, i):
                marker = f"fanout {uuid.uuid4().hex}"
                path, params = "/channels/twilio/sms/", sms(serial * 10_000 + i, marker)
                headers = {"X-Twilio-Signature": sign(server.url(path), params, TOKEN),
                           "Content-Type": "application/x-www-form-urlencoded"}
                started = time.perf_counter()
                await asyncio.to_thread(post, server.url(path), form_body(params), headers)
                answered = time.perf_counter() - started
                await wait_for(sockets, marker)
                return marker, started, answered

            async def bare_send(sockets, size):
                marker = uuid.uuid4().hex
                started = time.perf_counter()
                await asyncio.to_thread(post, f"http://127.0.0.1:{bare_port}/send?size={size}&marker={marker}")
                await wait_for(sockets, marker)
                return marker, started

            # Warm both up (imports, caches, the first ticket), then measure memory per socket.
            warm_p, warm_b = [console(i) for i in range(WARMUP)], [plain() for _ in range(WARMUP)]
            await connect_all(warm_p, resume)
            await connect_all(warm_b)
            for i in range(3):
                await project_send(warm_p, -1 - i)
                await bare_send(warm_b, 300)
            await asyncio.sleep(1)
            rss_p, rss_b = rss_kb(server.process.pid), rss_kb(bare.process.pid)
            project = [console(WARMUP + i) for i in range(consoles)]
            bare_sockets = [plain() for _ in range(consoles)]
            t0 = time.perf_counter()
            await connect_all(project, resume)
            connect_p = time.perf_counter() - t0
            await connect_all(bare_sockets)
            await asyncio.sleep(2)
            kb_p = (rss_kb(server.process.pid) - rss_p) / consoles
            kb_b = (rss_kb(bare.process.pid) - rss_b) / consoles

            everyone_p, everyone_b = warm_p + project, warm_b + bare_sockets
            lat_p, lat_b, answers, lost, doubled = [], [], [], 0, 0
            for i in range(messages):
                marker, started, answered = await project_send(everyone_p, i)
                answers.append(answered)
                size = max(s.size for s in everyone_p)
                for s in everyone_p:
                    times = s.arrived.get(marker, [])
                    lost, doubled = lost + (not times), doubled + (len(times) > 1)
                    lat_p += [t - started for t in times[:1]]
                first_p = len(lat_p) - sum(1 for s in everyone_p if s.arrived.get(marker))
                marker, started = await bare_send(everyone_b, max(size - 40, 1))
                mine = [s.arrived[marker][0] - started for s in everyone_b if marker in s.arrived]
                lat_b += mine
                if detail:  # which messages make the tail
                    print(f"    message {i:3}: helpdesk p50 {pct(lat_p[first_p:], 0.5):4.0f} max "
                          f"{pct(lat_p[first_p:], 1):4.0f} ms (answered {answered * 1000:.0f} ms) | bare p50 "
                          f"{pct(mine, 0.5):4.0f} max {pct(mine, 1):4.0f} ms")
                await asyncio.sleep(0.05)
            closed = [s.closed for s in everyone_p + everyone_b if s.closed]
            if closed:
                print(f"  {len(closed)} sockets closed during the run, e.g. {closed[:2]}")
            for s in everyone_p + everyone_b:
                await s.ws.close()
        finally:
            bare.stop()
    return {"p50": pct(lat_p, 0.5), "p99": pct(lat_p, 0.99), "bare_p50": pct(lat_b, 0.5),
            "bare_p99": pct(lat_b, 0.99), "lost": lost, "doubled": doubled, "answer_p50": pct(answers, 0.5),
            "kb": kb_p, "bare_kb": kb_b, "connect": connect_p, "size": size}


def redis_env():
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means: no Redis here
        print(f"  (Redis at {url} does not answer, skipping the Redis layer: {exc!r})")
        return None
    return {"REDIS_URL": url, "REDIS_PREFIX": os.environ.get("REDIS_PREFIX", "hd-bench") + "-fanout"}


async def main(args):
    print(f"fan-out, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at start")
    ok, serial = True, 0
    for layer in args.layers:
        layer_env = {} if layer == "memory" else redis_env()
        if layer_env is None:
            continue
        for consoles in args.consoles:
            serial += 1
            r = await one_run(layer_env, consoles, args.messages, serial, args.detail)
            ratio, kb_ratio = r["p99"] / r["bare_p99"], r["kb"] / r["bare_kb"] if r["bare_kb"] > 0 else float("nan")
            good = ratio <= 1.5 and not r["lost"] and not r["doubled"]
            ok = ok and good
            print(f"  {layer:6} N={consoles:5}: helpdesk p50 {r['p50']:.0f} ms p99 {r['p99']:.0f} ms | bare group_send "
                  f"p50 {r['bare_p50']:.0f} ms p99 {r['bare_p99']:.0f} ms | p99 ratio {ratio:.2f}x (target <= 1.5x) "
                  f"{'OK' if good else 'MISSED'} | lost {r['lost']} doubled {r['doubled']} | webhook answered p50 "
                  f"{r['answer_p50']:.0f} ms | {r['size']} B frames")
            print(f"  {'':6} N={consoles:5}: memory per idle console {r['kb']:.1f} KB vs bare socket "
                  f"{r['bare_kb']:.1f} KB = {kb_ratio:.2f}x (target <= 1.3x) | consoles connected in "
                  f"{r['connect']:.1f} s | load average {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consoles", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--layers", nargs="+", default=["memory", "redis"], choices=["memory", "redis"])
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--detail", action="store_true", help="print every message's p50 and max")
    sys.exit(asyncio.run(main(parser.parse_args())))
