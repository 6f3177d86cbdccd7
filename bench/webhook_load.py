"""Signed Twilio SMS webhooks over HTTP under `manage.py serve`, at bounded concurrency, against a
trivial request on the same server in the same run (a GET of the webhook URL: same routing and
middleware, answered 405 without work).

    .venv/bin/python bench/webhook_load.py [--concurrency 16] [--seconds 20] [--database-url URL]

Prints req/s, p50/p99 and the server's CPU time per request of each (the two loads alternate in
slices, so other work on the machine weighs on both alike) and the server's RSS: before, after
warm-up, halfway, after the load and after a pause (memory must be flat after warm-up).
`--http-threads 0,1,4` compares HELPDESK_HTTP_THREADS values and `--http-workers 2` a
`serve --http-workers` pool, one after the other in the same run. Targets (issue #20): webhooks within 1.5x of
the trivial request's rate, p99 < 200 ms at 16 concurrent requests. The load generator shares
the machine with the server.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.realtime_fanout import SID, TOKEN, pct, sms  # noqa: E402
from tests.fakes.twilio import form_body, sign  # noqa: E402
from tests.live import LiveServer, shifted_port  # noqa: E402

PATH = "/channels/twilio/sms/"


def server_pids(pid: int) -> list[int]:
    """The serving processes: `serve` itself, or the members of a `--http-workers` pool."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children] or [pid]


def rss(pid: int) -> dict[str, int]:
    """The server's resident memory in KB (summed over a pool's processes): anonymous (heap: a
    leak shows here) and file-backed (SQLite's memory-mapped database file: grows with the
    file, reclaimable, shared with the kernel's page cache)."""
    total = dict.fromkeys(("VmRSS", "RssAnon", "RssFile"), 0)
    for member in server_pids(pid):
        status = Path(f"/proc/{member}/status").read_text().splitlines()
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        for key in total:
            total[key] += int(fields[key].split()[0])
    return total


def mb(sample: dict[str, int]) -> str:
    return f"{sample['VmRSS'] / 1024:.0f} MB (heap {sample['RssAnon'] / 1024:.0f}, file {sample['RssFile'] / 1024:.0f})"


def load(servers: list[LiveServer], seconds: float, concurrency: int, webhook: bool, numbers) -> tuple[int, list[float]]:
    """Keep `concurrency` requests in flight for `seconds`, the clients spread round-robin over
    `servers` (each keeps one connection); returns (count, latencies)."""
    deadline, times, lock, order = time.monotonic() + seconds, [], threading.Lock(), itertools.count()

    def client():
        server = servers[next(order) % len(servers)]
        connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
        mine = []
        while time.monotonic() < deadline:
            if webhook:
                params = sms(next(numbers), f"load {time.monotonic()}")
                body = form_body(params)
                headers = {"X-Twilio-Signature": sign(server.url(PATH), params, TOKEN),
                           "Content-Type": "application/x-www-form-urlencoded"}
                method = "POST"
            else:
                body, headers, method = None, {}, "GET"
            started = time.perf_counter()
            connection.request(method, PATH, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != (200 if webhook else 405):
                raise RuntimeError(f"{method} {PATH} answered {response.status}")
        connection.close()
        with lock:
            times.extend(mine)

    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(client) for _ in range(concurrency)]:
            future.result()
    return len(times), times


def sqlite_handles(pid: int) -> int:
    """Open file handles on SQLite files (the database, its WAL and shared memory): each open
    connection holds some, so a connection opened per request and left to the garbage
    collector shows here."""
    count = 0
    for member in server_pids(pid):
        for fd in Path(f"/proc/{member}/fd").iterdir():
            try:
                count += ".sqlite3" in os.readlink(fd)
            except OSError:
                pass  # closed while we looked
    return count


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the serving processes have used so far."""
    total = 0
    for member in server_pids(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


SLICES = 4  # trivial and webhook load alternate, so that other work on the machine hits both alike


def measure(label: str, env: dict, args, numbers, serve_args=()) -> bool:
    with LiveServer(port=shifted_port(8434), env=env, serve_args=serve_args) as server:
        pid = server.process.pid
        start_rss = rss(pid)
        load([server], 3, args.concurrency, True, numbers)  # warm-up
        load([server], 2, args.concurrency, False, numbers)
        warm_rss = rss(pid)
        trivial, hooks, cpu = [], [], {"trivial": 0.0, "webhook": 0.0}
        for index in range(SLICES):
            for kind, seconds in (("trivial", args.seconds / 2), ("webhook", args.seconds)):
                before = cpu_seconds(pid)
                _, times = load([server], seconds / SLICES, args.concurrency, kind == "webhook", numbers)
                cpu[kind] += cpu_seconds(pid) - before
                (hooks if kind == "webhook" else trivial).extend(times)
            if index == SLICES // 2 - 1:
                half_rss, half_n = rss(pid), len(hooks)  # flat after warm-up: the second half adds nothing
        loaded_rss = rss(pid)
        time.sleep(3)
        idle_rss = rss(pid)
        threads = sum(len(list(Path(f"/proc/{member}/task").iterdir())) for member in server_pids(pid))
        handles = sqlite_handles(pid)
    trivial_rate, hooks_rate = len(trivial) / (args.seconds / 2), len(hooks) / args.seconds
    ratio = trivial_rate / hooks_rate
    cpu_trivial, cpu_hook = 1000 * cpu["trivial"] / len(trivial), 1000 * cpu["webhook"] / len(hooks)
    ok = ratio <= 1.5 and pct(hooks, 0.99) < 200
    grew = (loaded_rss["RssAnon"] - half_rss["RssAnon"]) / max(len(hooks) - half_n, 1)
    print(f"{label}:")
    print(f"  trivial request: {trivial_rate:.0f} req/s, p50 {pct(trivial, 0.5):.0f} ms, p99 {pct(trivial, 0.99):.0f} ms, "
          f"server CPU {cpu_trivial:.2f} ms per request")
    print(f"  signed webhook:  {hooks_rate:.0f} req/s, p50 {pct(hooks, 0.5):.0f} ms, p99 {pct(hooks, 0.99):.0f} ms, "
          f"server CPU {cpu_hook:.2f} ms per request, at {args.concurrency} concurrent")
    print(f"  trivial/webhook {ratio:.2f}x in rate, {cpu_hook / cpu_trivial:.2f}x in server CPU "
          f"(target <= 1.5x, p99 < 200 ms) {'OK' if ok else 'MISSED'}")
    print(f"  server RSS: {mb(start_rss)} at start, {mb(warm_rss)} after warm-up, {mb(half_rss)} after "
          f"{half_n} webhooks, {mb(loaded_rss)} after {len(hooks)}, {mb(idle_rss)} 3 s later; heap "
          f"{grew:+.1f} KB per webhook in the second half; {threads} threads, {handles} SQLite file handles "
          f"| load average {os.getloadavg()[0]:.2f}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file (embedded mode)")
    parser.add_argument("--redis-url", default="", help="REDIS_URL for the server (the scaled mode's layer)")
    parser.add_argument("--sqlite-cache-kb", default="", help="HELPDESK_SQLITE_CACHE_KB for the server (compare)")
    parser.add_argument("--http-threads", default="",
                        help="comma-separated HELPDESK_HTTP_THREADS values, measured one after the other in "
                             "this run (0: Django's thread per request); default: the server's default")
    parser.add_argument("--http-workers", default="",
                        help="comma-separated `serve --http-workers` values measured after the rest (a pool of "
                             "server processes behind the port)")
    args = parser.parse_args()
    env = {"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": SID,
           "HELPDESK_LOG_LEVEL": "WARNING"}
    if args.sqlite_cache_kb:
        env["HELPDESK_SQLITE_CACHE_KB"] = args.sqlite_cache_kb
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.redis_url:
        env.update(REDIS_URL=args.redis_url, REDIS_PREFIX=os.environ.get("REDIS_PREFIX", "helpdesk") + "-webhook-load")
    numbers = itertools.count(int(time.time()) * 1000)
    print(f"webhooks over HTTP, load average {os.getloadavg()[0]:.2f}")
    configs = [("default", {})] + [(f"HELPDESK_HTTP_THREADS={n}", {"HELPDESK_HTTP_THREADS": n})
                                   for n in args.http_threads.split(",") if n]
    if args.http_threads:
        configs = configs[1:]
    results = [measure(label, {**env, **extra}, args, numbers) for label, extra in configs]
    results += [measure(f"serve --http-workers {n}", env, args, numbers, ("--http-workers", n))
                for n in args.http_workers.split(",") if n]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
