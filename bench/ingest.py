"""Ingest throughput through services.ingest(), on SQLite (WAL, file) and on PostgreSQL.

    .venv/bin/python bench/ingest.py [--messages 5000] [--postgres postgres://postgres@127.0.0.1:5432/hd_bench]
                                     [--compare DATABASE_PREPARE_THRESHOLD=]

--compare runs PostgreSQL a second time with these environment variables (settings side by side).

Each database runs in a child process (settings are read from the environment at start-up).
Target: >= 500 messages/s on SQLite on the project's 2-core machine."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SQLITE = 500.0


def child(messages: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as c:  # a clean slate for repeatable figures
            c.execute("TRUNCATE tickets_event, tickets_attachment, tickets_message, tickets_ticket, "
                      "tickets_identity, tickets_customer CASCADE")
    from django.test.utils import CaptureQueriesContext

    from tickets import services

    batch = make_batch(messages)
    backend = _backend_cpu()
    started, cpu_started, backend_started = time.perf_counter(), time.process_time(), backend()
    for msg in batch:
        services.ingest(msg)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    backend_cpu = backend() - backend_started
    # Statements sent per message (each a round trip), counted on a second, untimed batch.
    extra = make_batch(messages + 200)[messages:]
    with CaptureQueriesContext(connection) as queries:
        for msg in extra:
            services.ingest(msg)
    print(json.dumps({"vendor": connection.vendor, "messages": messages, "seconds": elapsed,
                      "rate": messages / elapsed, "cpu_rate": messages / cpu,
                      "backend_ms": 1000 * backend_cpu / messages, "statements": len(queries) / len(extra)}))


def _backend_cpu():
    """A function giving the CPU seconds of this connection's PostgreSQL backend (0 on SQLite,
    whose work is in this process)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return lambda: 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")

    def read():
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return read


def make_batch(messages: int) -> list:
    """A realistic mix: 1 in 5 messages from a new customer, the rest follow-ups from earlier
    ones across channels, and 1 in 20 a provider retry of a message already stored."""
    from tickets.channels import InboundMessage

    channels = [("email", "user{}@example.com"), ("sms", "+1415555{:04d}"), ("chat", "visitor-{}")]
    batch = []
    for i in range(messages):
        customer = i // 5
        channel, pattern = channels[customer % len(channels)]
        external = f"bench-{i - 1}" if i % 20 == 19 else f"bench-{i}"
        batch.append(InboundMessage(channel=channel, external_id=external, sender=pattern.format(customer),
                                    sender_name=f"Customer {customer}", subject="Order question",
                                    text=f"Message {i}: where is my order? " * 3))
    return batch


def run(env_extra: dict, messages: int) -> dict:
    env = {**os.environ, **env_extra, "HELPDESK_LOG_LEVEL": "WARNING"}
    out = subprocess.run([sys.executable, __file__, "--child", "--messages", str(messages)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/hd_bench"))
    parser.add_argument("--compare", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(args.messages)

    with tempfile.TemporaryDirectory() as tmp:
        sqlite = run({"HELPDESK_VAR_DIR": tmp, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"}, args.messages)
    verdict = "meets" if sqlite["rate"] >= TARGET_SQLITE else "MISSES"
    print(f"ingest  sqlite    {sqlite['rate']:8.0f} messages/s  ({args.messages} in {sqlite['seconds']:.2f}s)"
          f"  target >= {TARGET_SQLITE:.0f}/s: {verdict}")
    # On a shared machine wall time follows the neighbours; CPU time is what a change moves.
    print(f"        sqlite    {sqlite['cpu_rate']:8.0f} messages per CPU-second (this process), "
          f"{sqlite['statements']:.1f} statements per message")
    try:
        _ensure_pg_database(args.postgres)
        variants = {"": {}} | ({" ".join(args.compare): dict(i.split("=", 1) for i in args.compare)} if args.compare else {})
        for label, extra in variants.items():
            with tempfile.TemporaryDirectory() as tmp:
                pg = run({"HELPDESK_VAR_DIR": tmp, "DATABASE_URL": args.postgres, **extra}, args.messages)
            _print_postgres(pg, sqlite, args.messages, label)
    except Exception as exc:  # noqa: BLE001 - PostgreSQL is optional for the bench
        print(f"ingest  postgres  skipped: {exc}")


def _print_postgres(pg: dict, sqlite: dict, messages: int, label: str) -> None:
    print(f"ingest  postgres  {pg['rate']:8.0f} messages/s  ({messages} in {pg['seconds']:.2f}s){f' ({label})' if label else ''}; "
          f"{pg['cpu_rate']:.0f} per CPU-second (this process), backend {pg['backend_ms']:.2f} ms CPU and "
          f"{pg['statements']:.1f} statements (round trips) per message; {pg['rate'] / sqlite['rate']:.2f} of SQLite")


def _ensure_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
