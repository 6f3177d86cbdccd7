"""Scale-out: signed Twilio webhooks over HTTP into 1, 2 and 4 server processes on PostgreSQL +
Redis (the scaled mode), spread by a loopback round-robin client, and the single-process
PostgreSQL rate against SQLite's in the same run.

    .venv/bin/python bench/scaleout.py [--processes 1 2 4] [--seconds 15] [--concurrency 16]
                                       [--compare DATABASE_POOL_SIZE=0 DATABASE_PREPARE_THRESHOLD=]

The rate counts webhooks written, not only answered: with HELPDESK_WEBHOOK_INGEST=worker (each
`serve` writes the queue on a thread of its own; `--compare HELPDESK_WEBHOOK_INGEST=worker`) the
time the queue takes to drain after the load is added to the load's. `--ingest-workers` adds the
scaled shape of that mode: each server `serve --no-worker` with a `manage.py ingest_worker`
process of its own.

--compare runs each PostgreSQL case a second time, right after the first, with these extra
environment variables (the settings before a change, side by side in one run). The servers run
with a connection pool of DATABASE_POOL_SIZE (default here 8). Each case prints
the CPU seconds per 1,000 webhooks of every component (bench/_cpu.py): the servers, the
PostgreSQL cluster, Redis, this load generator, and everything else on the machine.

Needs DATABASE_URL (PostgreSQL; default postgres://postgres@127.0.0.1:5432/hd_realtime, a
scratch database it migrates and writes to) and REDIS_URL (default redis://127.0.0.1:6379/0).
Targets (issue #20): 2 processes >= 1.7x one; PostgreSQL >= 60% of SQLite with one process.
On a 2-core machine shared with the load generator, the ceiling is the CPU: see the load average.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._cpu import CpuAccount, ceiling, describe  # noqa: E402
from bench.realtime_fanout import SID, TOKEN, pct  # noqa: E402
from bench.webhook_load import drained, ingest_process, load  # noqa: E402
from tests.live import LiveServer, shifted_port  # noqa: E402


def rate(env: dict, processes: int, args, numbers, ingest_workers: bool = False) -> tuple[float, float, str]:
    """Webhooks per second, p99 (ms) and where the CPU went, through `processes` servers
    sharing `env`'s stores; `ingest_workers`: each server is `serve --no-worker` with a
    `manage.py ingest_worker` process beside it (HELPDESK_WEBHOOK_INGEST=worker)."""
    with ExitStack() as stack:
        # serve's own worker interval (0.5 s), not the tests' 0.1 s: each process's worker polls.
        servers = [stack.enter_context(LiveServer(port=shifted_port(8440 + i), env=env, worker_interval=0.5,
                                                  serve_args=("--no-worker",) if ingest_workers else ()))
                   for i in range(processes)]
        writers = [stack.enter_context(ingest_process(server, ingest_workers)) for server in servers]
        load(servers, 3, args.concurrency, "webhook", numbers)  # warm-up
        drained(servers[0])  # HELPDESK_WEBHOOK_INGEST=worker: the warm-up written before the clock starts
        pids = [server.process.pid for server in servers] + [w.pid for w in writers if w is not None]
        with CpuAccount(pids, env.get("DATABASE_URL", "")) as account:
            count, times = load(servers, args.seconds, args.concurrency, "webhook", numbers)
            late = drained(servers[0])  # answered but not yet written: the rate counts them written
    shares = account.per(1000, count)
    return (count / (args.seconds + late), pct(times, 0.99),
            f"{describe(shares, 1000)}" + (f"\n      written {late:.1f} s after the load ended" if late > 0.05 else "")
            + f"\n      on {os.cpu_count()} cores of our own these costs would allow "
            f"{ceiling(shares, 1000, len(pids)):.0f} webhooks/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--compare", nargs="*", default=[], metavar="NAME=VALUE",
                        help="also run each PostgreSQL case with these environment variables")
    parser.add_argument("--ingest-workers", action="store_true",
                        help="also run each PostgreSQL case as HELPDESK_WEBHOOK_INGEST=worker with `serve "
                             "--no-worker` and one `manage.py ingest_worker` process per server (counted with "
                             "the servers' CPU)")
    args = parser.parse_args()
    base = {"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": SID,
            "HELPDESK_LOG_LEVEL": "WARNING"}
    scaled = base | {"DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hd_realtime"),
                     "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                     "REDIS_PREFIX": os.environ.get("REDIS_PREFIX", "hd-bench") + "-scaleout",
                     # the scaled mode's recommended pool (README: Configuration); 0 to compare
                     "DATABASE_POOL_SIZE": os.environ.get("DATABASE_POOL_SIZE", "8")}
    try:
        import psycopg

        psycopg.connect(scaled["DATABASE_URL"], connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means: no PostgreSQL here
        print(f"scale-out: SKIPPED, PostgreSQL at {scaled['DATABASE_URL']} does not answer ({exc}); "
              "create the database or set DATABASE_URL")
        return 0
    variants = {"": (scaled, False)}
    if args.compare:
        variants[" ".join(args.compare)] = (scaled | dict(item.split("=", 1) for item in args.compare), False)
    if args.ingest_workers:
        variants["an ingest_worker per server"] = (scaled | {"HELPDESK_WEBHOOK_INGEST": "worker"}, True)
    numbers = itertools.count(int(time.time()) * 1000)
    print(f"scale-out, load average {os.getloadavg()[0]:.2f}")
    sqlite, sqlite_p99, cpu = rate(base, 1, args, numbers)
    print(f"  SQLite, 1 process: {sqlite:.0f} webhooks/s, p99 {sqlite_p99:.0f} ms\n      {cpu}")
    rates = {}
    for processes in args.processes:
        for label, (env, separate) in variants.items():  # interleaved: the variants see the same machine
            rates[label, processes], p99, cpu = rate(env, processes, args, numbers, separate)
            one = rates[label, args.processes[0]]
            print(f"  PostgreSQL + Redis{f' ({label})' if label else ''}, {processes} process(es): "
                  f"{rates[label, processes]:.0f} webhooks/s, p99 {p99:.0f} ms ({rates[label, processes] / one:.2f}x one)"
                  f" | load average {os.getloadavg()[0]:.2f}\n      {cpu}")
    ok = True
    for label in variants:
        one = rates[label, args.processes[0]]
        two = rates.get((label, 2), 0) / one
        print(f"  {label or 'as configured'}: PostgreSQL / SQLite with one process: {one / sqlite:.2f} (target >= 0.60); "
              f"2 processes / 1: {two:.2f}x (target >= 1.7x)")
        ok = ok and one / sqlite >= 0.6 and two >= 1.7 if not label else ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
