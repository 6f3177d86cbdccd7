"""Reports at scale, on SQLite: every report view over the last 30 days, with 100,000 tickets,
~1,000,000 messages and ~30,000 survey responses, against 300,000 tickets (~90,000 responses) over three times the history at the same density, so both have the same
tickets in the period. Target: each view <= 200 ms, and the cost follows the tickets in the
period, not the whole history.

Messages: ~10 per ticket at 100,000 tickets, ~1,000,000 in all above that (reports never read
them). The datasets are generated with bulk inserts (tickets, messages, per-ticket metrics, tags,
surveys) and cached under var/ between runs (`--rebuild` makes them again). Each size is
measured in a child process of its own; views are called the way the API calls them
(reports.figures), and the summary also through the full stack (GET /api/v1/reports/summary
with a token).

    .venv/bin/python bench/reports.py [--sizes 100000,300000] [--rebuild] [--runs 7]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 200.0
DENSITY_PER_DAY = 100_000 / 365  # tickets created per day, the same for every size
MESSAGES = 1_000_000  # at 100,000 tickets and above, ~this many in all: reports never read messages,
# and three million rows would triple the bench's set-up for nothing it measures
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # fixed: a cached dataset stays "recent"
DATASET_VERSION = 3  # bump when the generator or the schema it fills changes: cached files are rebuilt


def db_path(size: int) -> Path:
    var = Path(os.environ.get("HELPDESK_VAR_DIR", ROOT / "var"))
    var.mkdir(parents=True, exist_ok=True)
    return var / f"bench-reports-{size}.sqlite3"


def setup(path: Path):
    sys.path.insert(0, str(ROOT))
    os.environ.update({"DATABASE_URL": f"sqlite:///{path}", "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
                       "HELPDESK_LOG_LEVEL": "ERROR", "DJANGO_ALLOWED_HOSTS": "testserver"})
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


# -- the dataset ----------------------------------------------------------------------------------

def build(size: int, path: Path) -> None:
    setup(path)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from service_levels.models import TicketMetrics
    from surveys.models import Survey
    from tickets import search
    from tickets.models import Customer, Message, Tag, Team, Ticket

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    rand = random.Random(15)
    User = get_user_model()
    agents = [User.objects.create_user(f"agent{i}", password=None, first_name=f"Agent {i}").pk for i in range(20)]
    lead = User.objects.create_user("lead", password=None, is_superuser=True)
    teams = [Team.objects.create(name=f"Team {i}").pk for i in range(5)]
    tags = [Tag.objects.create(name=f"tag-{i}").pk for i in range(10)]
    search.suspend_triggers()  # reports do not search: no full-text index for the bench
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")

    def dt(value):
        return value.replace(tzinfo=None).isoformat(" ") if value is not None else None

    def inserter(model):
        fields = [f for f in model._meta.concrete_fields]
        defaults = {}
        for f in fields:
            value = f.get_default()  # "" for text columns without a default, as the ORM writes
            defaults[f.attname] = json.dumps(value) if isinstance(value, dict | list) else value
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - our names
            model._meta.db_table, ", ".join(f.column for f in fields), ", ".join(["%s"] * len(fields)))
        names = [f.attname for f in fields]

        def insert(rows):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, [[row.get(n, defaults[n]) for n in names] for row in rows])
        return insert

    put_customer, put_ticket, put_message = inserter(Customer), inserter(Ticket), inserter(Message)
    put_metrics, put_survey = inserter(TicketMetrics), inserter(Survey)
    put_tag = inserter(Ticket.tags.through)
    customers = max(size // 5, 1)
    put_customer([{"id": i + 1, "name": f"Customer {i}", "created_at": dt(NOW)} for i in range(customers)])
    days = size / DENSITY_PER_DAY
    per_ticket = max(2, round(MESSAGES / max(size, 100_000)))
    channels = ["email"] * 5 + ["sms", "whatsapp", "chat", "telegram", "messenger"]
    message_id, totals = 1, {"tickets": size, "messages": 0, "surveys": 0, "answered": 0}
    batch: dict[str, list] = {"t": [], "m": [], "x": [], "s": [], "g": []}

    def flush():
        put_ticket(batch["t"])
        put_message(batch["m"])
        put_metrics(batch["x"])
        put_survey(batch["s"])
        put_tag(batch["g"])
        for rows in batch.values():
            rows.clear()

    for tid in range(1, size + 1):
        # Tickets are inserted as they are created (ids follow time), as in a real helpdesk: a
        # period's tickets sit together in the table, not scattered through its history.
        created = NOW - timedelta(days=days * (1 - tid / size), seconds=rand.randint(0, 60))
        channel = rand.choice(channels)
        customer = rand.randint(1, customers)
        agent = rand.choice(agents)
        answered = rand.random() > 0.05
        first = rand.lognormvariate(7.5, 1.2) if answered else None  # median ~30 min
        resolution = (first or 0) + rand.lognormvariate(9.5, 1.3)  # median ~4 h after it
        solved_at = created + timedelta(seconds=resolution)
        done = solved_at < NOW
        status = ("closed" if solved_at < NOW - timedelta(days=4) else "solved") if done else rand.choice(
            ["new", "open", "open", "pending"])
        if not done:
            solved_at = None
        replies = rand.choice([1, 1, 1, 2, 2, 3, 4]) if answered else 0
        inbound = rand.randint(1, 5)
        waits = [[s, s * 0.6] for s in (rand.lognormvariate(7.8, 1.0) for _ in range(max(0, replies - 1)))]
        targets = []
        for kind, minutes, elapsed in [("first_reply", 240, first), ("resolution", 2880, resolution if done else None)]:
            if elapsed is None:
                continue
            targets.append({"key": f"{kind}:{tid}", "kind": kind, "start": created.isoformat(),
                            "due": (created + timedelta(minutes=minutes)).isoformat(), "warn": None, "business": True,
                            "minutes": minutes, "state": "achieved" if elapsed <= minutes * 60 else "breached",
                            "met_at": created.isoformat(), "elapsed": elapsed * 0.6,
                            "over": max(0.0, elapsed * 0.6 - minutes * 60)})
        batch["t"].append({"id": tid, "customer_id": customer, "subject": f"Order question {tid}", "status": status,
                           "priority": rand.choices([0, 1, 2, 3], [10, 70, 15, 5])[0],
                           "assignee_id": agent if answered else None, "team_id": rand.choice(teams),
                           "channel": channel, "inbox": channel, "created_at": dt(created), "updated_at": dt(created),
                           "meta": "{}"})
        batch["x"].append({
            "ticket_id": tid, "policy_name": "Standard",
            "first_reply_at": dt(created + timedelta(seconds=first)) if first else None, "first_reply_seconds": first,
            "first_reply_business_seconds": first * 0.6 if first else None, "next_replies": json.dumps(waits),
            "solved_at": dt(solved_at), "solves": json.dumps([solved_at.isoformat()] if solved_at else []),
            "reopens": 1 if rand.random() < 0.06 else 0, "resolution_seconds": resolution if done else None,
            "full_resolution_seconds": resolution if done else None,
            "full_resolution_business_seconds": resolution * 0.55 if done else None,
            "first_reply_by_id": agent if answered else None, "public_replies": replies, "customer_messages": inbound,
            "agent_touches": replies, "targets": json.dumps(targets),
            "sla_outcomes": " ".join(f"{t['kind']}:{t['state']}" for t in targets), "status_log": "[]", "updated_at": dt(NOW)})
        if rand.random() < 0.3:
            batch["g"].append({"ticket_id": tid, "tag_id": rand.choice(tags)})
        if done and rand.random() < 0.75:  # ~30 responses per 100 tickets, as the issue's dataset
            sent = solved_at + timedelta(hours=1)
            rated = rand.random() < 0.42 and sent < NOW
            totals["surveys"] += 1
            totals["answered"] += rated
            batch["s"].append({"ticket_id": tid, "customer_id": customer, "channel": channel,
                               "status": "answered" if rated else "sent", "nonce": f"n{tid}", "sent_at": dt(sent),
                               "expires_at": dt(sent + timedelta(days=3)),
                               "rating": rand.choices([1, 2, 3, 4, 5], [6, 5, 9, 30, 50])[0] if rated else None,
                               "answered_at": dt(sent + timedelta(minutes=rand.randint(1, 600))) if rated else None,
                               "agent_id": agent if rated else None, "history": "[]"})
        at = created
        for n in range(per_ticket + rand.randint(-per_ticket // 2, per_ticket // 2)):
            at += timedelta(seconds=rand.randint(30, 3600))
            direction = "inbound" if n % 2 == 0 else "outbound"
            batch["m"].append({"id": message_id, "ticket_id": tid, "customer_id": customer, "direction": direction,
                               "channel": channel, "adapter": channel, "author_id": agent if n % 2 else None,
                               "text": "Where is my order? It was due on Monday.", "status":
                                   "received" if direction == "inbound" else "delivered",
                               "external_id": f"b{message_id}" if direction == "inbound" else None,
                               "created_at": dt(at), "meta": "{}"})
            message_id += 1
        if len(batch["m"]) >= 50_000:
            flush()
            print(f"\r  building {size:,} tickets: {tid:,}", end="", file=sys.stderr, flush=True)
    flush()
    totals["messages"] = message_id - 1
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"\r  built {size:,} tickets, {totals['messages']:,} messages, {totals['surveys']:,} surveys "
          f"({totals['answered']:,} answered) in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    (path.parent / (path.name + ".json")).write_text(json.dumps({**totals, "lead": lead.pk, "version": DATASET_VERSION}))


# -- the measurement ------------------------------------------------------------------------------

def measure(size: int, path: Path, runs: int) -> dict:
    setup(path)
    from unittest import mock

    from django.test import Client
    from django.utils import timezone

    from reports import figures, params
    from tests.fakes.api import create_token
    from tickets.models import Tag

    totals = json.loads((path.parent / (path.name + ".json")).read_text())
    from django.contrib.auth import get_user_model

    lead = get_user_model().objects.get(pk=totals["lead"])
    token = create_token(lead, name=f"bench-{time.time()}")
    tag = Tag.objects.order_by("pk").first().pk

    with mock.patch.object(timezone, "now", lambda: NOW):
        # A fresh query per call, as a request parses one: figures keep the period's rows on the
        # query (one read per request), so reusing one here would measure a cache.
        def q():
            return params.parse({"period": "30d", "tz": "UTC"}, lead)

        def day():
            return params.parse({"period": "custom", "start": "2026-11-20", "end": "2026-11-20", "tz": "UTC"}, lead)

        def filtered():
            return params.parse({"period": "30d", "tz": "UTC", "channel": "email", "tag": str(tag)}, lead)

        views = {
            "summary (every figure)": lambda: figures.summary(q()),
            "summary, email + one tag": lambda: figures.summary(filtered()),
            "series: created": lambda: figures.series(q(), "created"),
            "series: backlog": lambda: figures.series(q(), "backlog"),
            "series: first reply time": lambda: figures.series(q(), "first_reply_time"),
            "series: CSAT": lambda: figures.series(q(), "csat"),
            "breakdown: first reply by agent": lambda: figures.breakdown(q(), "first_reply_time", "agent"),
            "breakdown: solved by tag": lambda: figures.breakdown(q(), "solved", "tag"),
            "breakdown: SLA by channel": lambda: figures.breakdown(q(), "sla_achievement", "channel"),
            "drill: first reply, 30 days": lambda: figures.drill(q(), "first_reply_time"),
            "drill: backlog now": lambda: figures.drill(q(), "backlog"),
            "drill: first reply, one day": lambda: figures.drill(day(), "first_reply_time"),
        }

        # What the console page (reports/views.py) does for one screen, in its order and on one
        # query: the volume chart's three series, the tiles (summing the series' counts), the
        # chosen figure's series and its breakdown by agent.
        def page():
            one = params.parse({"period": "30d", "tz": "UTC", "by": "agent"}, lead)
            return ([figures.series(one, n) for n in ("backlog", "created", "solved")], figures.summary(one),
                    figures.series(one, "first_reply_time"), figures.breakdown(one, "first_reply_time", "agent"))

        views["the page's work (summary, 4 series, 1 breakdown)"] = page
        client = Client()
        headers = {"Authorization": f"Bearer {token}"}
        def api_summary():
            response = client.get("/api/v1/reports/summary", {"period": "30d", "tz": "UTC"}, headers=headers)
            assert response.status_code == 200, response.content[:300]

        views["GET /api/v1/reports/summary (full stack)"] = api_summary
        results, cpu_ms = {}, {}
        for name, view in views.items():
            view()  # warm: caches, compiled statements
            times, cpu = [], []
            for _ in range(runs):
                started, cpu_started = time.perf_counter(), time.process_time()
                view()
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
            results[name] = statistics.median(times)
            cpu_ms[name] = statistics.median(cpu)
        in_period = figures.summary(q())["figures"]
    return {"size": size, "totals": totals, "ms": results, "cpu_ms": cpu_ms, "load": os.getloadavg()[0], "created_in_period": in_period["created"]["value"],
            "solved_in_period": in_period["solved"]["value"],
            "rated_in_period": in_period["csat"]["denominator"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,300000")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", choices=["build", "measure"])
    parser.add_argument("--size", type=int)
    args = parser.parse_args()
    if args.child == "build":
        return build(args.size, db_path(args.size))
    if args.child == "measure":
        print(json.dumps(measure(args.size, db_path(args.size), args.runs)))
        return None
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        path = db_path(size)
        sidecar = path.parent / (path.name + ".json")
        cached = path.exists() and sidecar.exists() and json.loads(sidecar.read_text()).get("version") == DATASET_VERSION
        if args.rebuild or not cached:
            for stale in path.parent.glob(path.name + "*"):
                stale.unlink()
            subprocess.run([sys.executable, __file__, "--child", "build", "--size", str(size)], check=True)
        out = subprocess.run([sys.executable, __file__, "--child", "measure", "--size", str(size), "--runs",
                              str(args.runs)], check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    print(f"Reports over the last 30 days: median wall ms (CPU ms) of {args.runs} runs; target <= {TARGET_MS:.0f} ms "
          f"each; load average {', '.join(f'{r['load']:.1f}' for r in results)} (2 cores shared)")
    header = "view".ljust(44) + "".join(f"{r['size']:>18,} tickets" for r in results)
    print(header)
    for name in results[0]["ms"]:
        cells = "".join(f"{r['ms'][name]:>12.1f} ({r['cpu_ms'][name]:>6.1f})" for r in results)
        verdict = "met" if all(r["ms"][name] <= TARGET_MS for r in results) else "MISSED"
        print(f"{name:<44}{cells}   {verdict}")
    for r in results:
        t = r["totals"]
        print(f"{r['size']:,} tickets in all ({t['messages']:,} messages, {t['answered']:,} survey responses of "
              f"{t['surveys']:,}): in the period {r['created_in_period']:,} created, {r['solved_in_period']:,} "
              f"solved, {r['rated_in_period']:,} rated")
    if len(results) > 1:
        a, b = results[0], results[-1]
        ratio = statistics.mean(b["cpu_ms"][n] / a["cpu_ms"][n] for n in a["ms"])
        print(f"history x{b['size'] / a['size']:.0f}, same period: views cost x{ratio:.2f} CPU on average "
              "(1.0 = the whole history does not matter)")
    return None


if __name__ == "__main__":
    main()
