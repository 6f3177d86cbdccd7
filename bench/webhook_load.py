"""Signed Twilio SMS webhooks over HTTP under `manage.py serve`, at bounded concurrency, against a
trivial view on the same server in the same run: the same signed POST body to a view that answers
200 at once (bench/_trivial_site.py: the project's settings, middleware and URLs plus that view).
Also, as measured before that view existed, a GET of the webhook URL (answered 405 without work,
no body, one warning logged).

    .venv/bin/python bench/webhook_load.py [--concurrency 16] [--seconds 20] [--database-url URL]

Each signed POST carries a fresh I-Twilio-Idempotency-Token, as Twilio's do (the resend check
and the token's record are part of a real webhook's cost); `--no-idempotency-token` leaves it
out, as this bench did before 2026-12-01.

Prints req/s, p50/p99 and the server's CPU time per request of each (the two loads alternate in
slices, so other work on the machine weighs on both alike) and the server's RSS: before, after
warm-up, halfway, after the load and after a pause (memory must be flat after warm-up).
`--http-threads 0,1,4` compares HELPDESK_HTTP_THREADS values and `--http-workers 2` a
`serve --http-workers` pool, one after the other in the same run, and `--ingest
inline,worker,worker-process` when webhooks are written: before the answer (inline), after it by
`serve`'s own ingest thread (worker), or by a `manage.py ingest_worker` process beside `serve
--no-worker` (worker-process: its CPU is printed apart, the server's rate is the figure), or the
same with the server keeping what it answered in the ingest spool's file (worker-spool: SQLite,
HELPDESK_INGEST_SPOOL). In the worker modes the load waits after each webhook slice until the
queue is written, and that time counts in the "written" rate. With no option, it measures inline
and worker-process, and worker-spool on SQLite. Targets (issue #20): webhooks within 1.5x of
the trivial view's rate, p99 < 200 ms at 16 concurrent requests. The load generator shares
the machine with the server.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.realtime_fanout import SID, TOKEN, pct, sms  # noqa: E402
from tests.fakes.twilio import form_body, sign  # noqa: E402
from tests.live import LiveServer, shifted_port  # noqa: E402
from tickets import sql  # noqa: E402

PATH = "/channels/twilio/sms/"
TRIVIAL_PATH = "/bench/trivial/"  # bench/_trivial_site_urls.py (imported by the server, not here)
KINDS = {  # what each load sends: (method, path, signed body?, expected status)
    "webhook": ("POST", PATH, True, 200),
    "trivial": ("POST", TRIVIAL_PATH, True, 200),
    "get": ("GET", PATH, False, 405),
}


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


def load(servers: list[LiveServer], seconds: float, concurrency: int, kind: str, numbers,
         tokens: bool = True) -> tuple[int, list[float]]:
    """Keep `concurrency` requests of `kind` (KINDS) in flight for `seconds`, the clients spread
    round-robin over `servers` (each keeps one connection); returns (count, latencies).
    `tokens`: signed requests carry an I-Twilio-Idempotency-Token, as Twilio's do."""
    deadline, times, lock, order = time.monotonic() + seconds, [], threading.Lock(), itertools.count()
    method, path, signed, expected = KINDS[kind]

    def client():
        server = servers[next(order) % len(servers)]
        connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
        mine = []
        while time.monotonic() < deadline:
            body, headers = None, {}
            if signed:
                number = next(numbers)
                params = sms(number, f"load {time.monotonic()}")
                body = form_body(params)
                headers = {"X-Twilio-Signature": sign(server.url(PATH), params, TOKEN),
                           "Content-Type": "application/x-www-form-urlencoded"}
                if tokens:
                    headers["I-Twilio-Idempotency-Token"] = f"bench-{number}"
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != expected:
                raise RuntimeError(f"{method} {path} answered {response.status}")
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


def queued(server: LiveServer) -> int:
    """Webhooks answered but not yet written (HELPDESK_WEBHOOK_INGEST=worker's queue, and the
    ingest spool's file if there is one)."""
    url = server.env["DATABASE_URL"]
    query = "SELECT count(*) FROM tickets_inboundpayload WHERE state = 'queued'"
    if url.startswith("sqlite:///"):
        import sqlite3

        spooled = 0
        if Path(server.env.get("HELPDESK_INGEST_SPOOL") or "/nonexistent").exists():
            with contextlib.closing(sqlite3.connect(server.env["HELPDESK_INGEST_SPOOL"], timeout=30)) as db:
                spooled = sql.spool_count(db)
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)) as db:
            return db.execute(query).fetchone()[0] + spooled
    import psycopg

    with psycopg.connect(url) as db:
        return db.execute(query).fetchone()[0]


def drained(server: LiveServer) -> float:
    """Wait until every answered webhook is written; returns the seconds waited."""
    started = time.perf_counter()
    while queued(server):
        time.sleep(0.02)
    return time.perf_counter() - started


@contextlib.contextmanager
def ingest_process(server: LiveServer, wanted: bool):
    """`manage.py ingest_worker` beside the server (--ingest worker-process), or nothing."""
    if not wanted:
        yield None
        return
    process = subprocess.Popen([sys.executable, "manage.py", "ingest_worker"], cwd=ROOT, env=server.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)


def process_cpu(process) -> float:
    return cpu_seconds(process.pid) if process is not None else 0.0


def measure(label: str, env: dict, args, numbers, serve_args=(), separate_ingest=False) -> bool:
    if env.get("HELPDESK_INGEST_SPOOL") == "fresh":
        env = {**env, "HELPDESK_INGEST_SPOOL": str(Path(tempfile.mkdtemp(prefix="webhook-spool-")) / "spool.sqlite3")}
    with (LiveServer(port=shifted_port(8434), env=env, serve_args=serve_args) as server,
          ingest_process(server, separate_ingest) as writer):
        pid, tokens = server.process.pid, not args.no_idempotency_token
        start_rss = rss(pid)
        load([server], 3, args.concurrency, "webhook", numbers, tokens)  # warm-up
        load([server], 1, args.concurrency, "trivial", numbers, tokens)
        load([server], 1, args.concurrency, "get", numbers, tokens)
        warm_rss = rss(pid)
        times, cpu = {kind: [] for kind in KINDS}, dict.fromkeys(KINDS, 0.0)
        share = {"webhook": 1.0, "trivial": 0.5, "get": 0.5}  # of args.seconds
        drain, writer_cpu = drained(server), 0.0  # worker modes: the wait after each webhook slice
        for index in range(SLICES):
            for kind in ("trivial", "webhook", "get"):
                before, writer_before = cpu_seconds(pid), process_cpu(writer)
                _, got = load([server], args.seconds * share[kind] / SLICES, args.concurrency, kind, numbers, tokens)
                if kind == "webhook":
                    drain += drained(server)  # the writing is the webhook's cost too
                    writer_cpu += process_cpu(writer) - writer_before
                cpu[kind] += cpu_seconds(pid) - before
                times[kind].extend(got)
            if index == SLICES // 2 - 1:
                half_rss, half_n = rss(pid), len(times["webhook"])  # flat after warm-up: the 2nd half adds nothing
        loaded_rss = rss(pid)
        time.sleep(3)
        idle_rss = rss(pid)
        threads = sum(len(list(Path(f"/proc/{member}/task").iterdir())) for member in server_pids(pid))
        handles = sqlite_handles(pid)
    rate = {kind: len(times[kind]) / (args.seconds * share[kind]) for kind in KINDS}
    cpu_ms = {kind: 1000 * cpu[kind] / len(times[kind]) for kind in KINDS}
    hooks = times["webhook"]
    ok = rate["trivial"] / rate["webhook"] <= 1.5 and pct(hooks, 0.99) < 200
    grew = (loaded_rss["RssAnon"] - half_rss["RssAnon"]) / max(len(hooks) - half_n, 1)
    print(f"{label}:")
    for kind, name in (("trivial", "trivial view (POST, same body, 200)"), ("get", "GET of the webhook URL (405)"),
                       ("webhook", "signed webhook")):
        print(f"  {name + ':':38} {rate[kind]:4.0f} req/s, p50 {pct(times[kind], 0.5):3.0f} ms, "
              f"p99 {pct(times[kind], 0.99):3.0f} ms, server CPU {cpu_ms[kind]:.2f} ms per request")
    if drain > 0.05 or writer is not None:
        written = len(hooks) / (args.seconds + drain)
        print(f"  webhooks answered {rate['webhook']:.0f}/s, written {written:.0f}/s (the queue took {drain:.1f} s "
              f"after the {args.seconds:.0f} s of load to write): trivial view/written {rate['trivial'] / written:.2f}x")
    if writer is not None:
        writer_ms = 1000 * writer_cpu / len(hooks)
        print(f"  ingest worker process: {writer_ms:.2f} ms CPU per webhook; server + worker "
              f"{cpu_ms['webhook'] + writer_ms:.2f} ms")
    print(f"  trivial view/webhook {rate['trivial'] / rate['webhook']:.2f}x in rate, "
          f"{cpu_ms['webhook'] / cpu_ms['trivial']:.2f}x in server CPU at {args.concurrency} concurrent "
          f"(target <= 1.5x in rate, p99 < 200 ms) {'OK' if ok else 'MISSED'}; against the GET: "
          f"{rate['get'] / rate['webhook']:.2f}x in rate, {cpu_ms['webhook'] / cpu_ms['get']:.2f}x in CPU")
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
    parser.add_argument("--ingest", default="",
                        help="comma-separated modes measured one after the other: inline, worker (serve's "
                             "ingest thread), worker-process (a manage.py ingest_worker beside serve --no-worker), "
                             "worker-spool (the same with HELPDESK_INGEST_SPOOL, SQLite only); with no option at "
                             "all: inline,worker-process and on SQLite worker-spool")
    parser.add_argument("--no-idempotency-token", action="store_true",
                        help="send no I-Twilio-Idempotency-Token (as this bench did before 2026-12-01)")
    args = parser.parse_args()
    if not (args.http_threads or args.http_workers or args.ingest):  # `make bench`: the default and the fast answer
        args.ingest = "inline,worker-process" + ("" if args.database_url else ",worker-spool")
    env = {"DJANGO_SETTINGS_MODULE": "bench._trivial_site", "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": SID,
           "HELPDESK_LOG_LEVEL": "WARNING"}
    if args.sqlite_cache_kb:
        env["HELPDESK_SQLITE_CACHE_KB"] = args.sqlite_cache_kb
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.redis_url:
        env.update(REDIS_URL=args.redis_url, REDIS_PREFIX=os.environ.get("REDIS_PREFIX", "helpdesk") + "-webhook-load")
    numbers = itertools.count(int(time.time()) * 1000)
    print(f"webhooks over HTTP, {'without' if args.no_idempotency_token else 'with'} I-Twilio-Idempotency-Token, "
          f"load average {os.getloadavg()[0]:.2f}")
    configs = [("default", {})] + [(f"HELPDESK_HTTP_THREADS={n}", {"HELPDESK_HTTP_THREADS": n})
                                   for n in args.http_threads.split(",") if n]
    modes = {"inline": ({"HELPDESK_WEBHOOK_INGEST": "inline"}, (), False),
             "worker": ({"HELPDESK_WEBHOOK_INGEST": "worker"}, (), False),
             "worker-process": ({"HELPDESK_WEBHOOK_INGEST": "worker"}, ("--no-worker",), True),
             "worker-spool": ({"HELPDESK_WEBHOOK_INGEST": "worker", "HELPDESK_INGEST_SPOOL": "fresh"},
                              ("--no-worker",), True)}
    if args.http_threads or args.ingest:
        configs = configs[1:]
    results = [measure(label, {**env, **extra}, args, numbers) for label, extra in configs]
    for mode in filter(None, args.ingest.split(",")):
        extra, serve_args, separate = modes[mode]
        results.append(measure(f"--ingest {mode}", {**env, **extra}, args, numbers, serve_args, separate))
    results += [measure(f"serve --http-workers {n}", env, args, numbers, ("--http-workers", n))
                for n in args.http_workers.split(",") if n]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
