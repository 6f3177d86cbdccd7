"""The event loop's share of a fan-out, without sockets: one doorbell to N console consumers on
the in-memory layer, against a bare consumer's `group_send` of a frame of the same size.

    .venv/bin/python bench/fanout_loop.py [--consumers 1000] [--rings 15]

bench/realtime_fanout.py measures the whole path through Daphne and real sockets, where the
machine's load decides most of the wall time. This measures only what runs on the server's
loop between the bell and the last consumer's `send` (the channel layer, Channels' dispatch,
the consumer's own work), in CPU time, so a change to any of them can be judged on a busy
machine. The ASGI `send` is a stub (Daphne's framing and the socket writes are the same for
both and are left out). Prints the median CPU and wall time per ring and per consumer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ["HELPDESK_VAR_DIR"] = tempfile.mkdtemp(prefix="hd-fanout-loop-")
os.environ["REDIS_URL"] = ""  # the in-memory layer
os.environ.setdefault("HELPDESK_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from django.core.management import call_command  # noqa: E402

from tests.factories import inbound  # noqa: E402
from tickets import doorbell, events, services  # noqa: E402
from tickets.console.consumers import ConsoleConsumer  # noqa: E402


class BareConsumer(AsyncWebsocketConsumer):
    """bench/_bare_fanout.py's consumer: forwards every frame as it is."""

    groups = ["bare"]

    async def bare_frame(self, message):
        await self.send(text_data=message["frame"])


class Counter:
    """Counts the frames the consumers send; `done` is set when `expected` have been sent."""

    def __init__(self):
        self.count, self.expected, self.done = 0, 0, asyncio.Event()

    def arm(self, expected):
        self.count, self.expected = 0, expected
        self.done.clear()

    async def send(self, message):
        if message["type"] == "websocket.send":
            self.count += 1
            if self.count == self.expected:
                self.done.set()


async def start(app, scope, counter, first=None):
    inbox = asyncio.Queue()
    accepted = asyncio.Event()

    async def send(message):
        if message["type"] == "websocket.accept":
            accepted.set()
        await counter.send(message)

    task = asyncio.ensure_future(app(scope, inbox.get, send))
    await inbox.put({"type": "websocket.connect"})
    await asyncio.wait_for(accepted.wait(), 30)
    if first is not None:
        await inbox.put({"type": "websocket.receive", "text": json.dumps(first)})
    return task, inbox


def agent():
    from django.contrib.auth import get_user_model

    from tickets.management.commands.seed_demo import ensure_agents_group

    user = get_user_model().objects.create_user("loop-agent", password=None)
    user.groups.add(ensure_agents_group())
    return get_user_model().objects.get(pk=user.pk)


def held_ring(i):
    """A new customer's message, committed with its bell held back: (groups, seq, carried)."""
    held, real = [], events.publish
    events.publish = lambda groups, seq, carry=None: held.append((list(groups), seq, carry()))
    try:
        services.ingest(inbound(f"loop{i}@example.com", f"fan-out loop {i}"))
    finally:
        events.publish = real
    return held[0]


async def measure(ring, counter, expected):
    counter.arm(expected)
    cpu, wall = time.process_time(), time.perf_counter()
    await ring()
    await asyncio.wait_for(counter.done.wait(), 60)
    return time.process_time() - cpu, time.perf_counter() - wall


async def main(args):
    from asgiref.sync import sync_to_async

    user = await sync_to_async(agent)()
    first = await sync_to_async(held_ring)(0)
    layer, n = get_channel_layer(), args.consumers
    counter = Counter()
    scope = {"type": "websocket", "path": "/ws/console/", "headers": [], "user": user, "subprotocols": []}
    console_app, bare_app = ConsoleConsumer.as_asgi(), BareConsumer.as_asgi()
    consoles = [await start(console_app, dict(scope), counter,
                            {"type": "resume", "last_seq": first[1]}) for _ in range(n)]
    bare = [await start(bare_app, dict(scope), counter) for _ in range(n)]
    await asyncio.sleep(1)  # let every console finish its resume

    helpdesk_cpu, helpdesk_wall, bare_cpu, bare_wall = [], [], [], []
    for i in range(args.rings + 1):
        groups, seq, carried = await sync_to_async(held_ring)(i + 1)
        frame = json.dumps({"type": "event", "marker": "x", "pad": "x" * (len(carried[-1].frame) + 40)})
        c, w = await measure(lambda g=groups, s=seq, e=carried: doorbell.ring_all(layer, g, s, e), counter, n)
        b, bw = await measure(lambda f=frame: layer.group_send("bare", {"type": "bare.frame", "frame": f}), counter, n)
        if i >= 1:  # the first of each warms caches up
            helpdesk_cpu.append(c), helpdesk_wall.append(w), bare_cpu.append(b), bare_wall.append(bw)
        await asyncio.sleep(0.05)

    def line(name, cpu, wall):
        cpu_ms, wall_ms = statistics.median(cpu) * 1000, statistics.median(wall) * 1000
        return (f"  {name:9} CPU {cpu_ms:6.1f} ms per ring ({cpu_ms * 1000 / n:5.1f} us per consumer) | "
                f"wall {wall_ms:6.1f} ms")

    print(f"one ring to {n} consumers, in-memory layer, median of {len(helpdesk_cpu)}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(line("helpdesk", helpdesk_cpu, helpdesk_wall))
    print(line("bare", bare_cpu, bare_wall))
    print(f"  ratio (CPU) {statistics.median(helpdesk_cpu) / statistics.median(bare_cpu):.2f}x")
    for _task, inbox in consoles + bare:
        await inbox.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.gather(*(task for task, _inbox in consoles + bare), return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumers", type=int, default=1000)
    parser.add_argument("--rings", type=int, default=15)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    asyncio.run(main(args))
