"""Ingest with routing on: 50 active rules and round-robin assignment, against the same ingest
without any routing configured (bench/ingest.py's message mix), on SQLite.

    .venv/bin/python bench/routing_ingest.py [--messages 3000]

The routing passes run inside the timed section (every 100 messages, as the worker would),
so the figure is the cost of the whole job, not only of the sink. Target: within 10% of the
plain rate. Also prints the round-robin spread over the five agents."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
TARGET = 0.10
AGENTS = 5
PASS_EVERY = 100


def configure():
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from routing import rules
    from routing.engine import start_from_now_if_idle
    from routing.models import AgentStatus, Inbox, Rule, TeamRouting
    from tickets.models import AgentPresence, Team

    start_from_now_if_idle()
    team = Team.objects.create(name="Front line")
    agents = [get_user_model().objects.create_user(f"bench-agent-{i}") for i in range(AGENTS)]
    team.members.add(*agents)
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN)
    for channel in ("email", "sms", "chat"):
        Inbox.objects.create(key=channel, name=channel, team=team)
    for i, agent in enumerate(agents):
        AgentPresence.objects.create(user=agent, connection=f"bench-{i}", last_seen=timezone.now() + timedelta(hours=1))
        AgentStatus.objects.create(user=agent, status="online")
    # 50 rules as a team might have them: keyword routing on subject/text, channel and
    # priority conditions; two of them match the bench's messages.
    for i in range(48):
        conditions = [{"field": "subject", "op": "contains", "value": f"keyword-{i}"},
                      {"field": "channel", "op": "is", "value": ("email", "sms", "chat")[i % 3]}]
        trigger = ("created", "customer_replied")[i % 2]
        c, a = rules.validate(trigger, conditions, [{"action": "set_priority", "value": 2}])
        Rule.objects.create(name=f"Keyword {i}", trigger=trigger, conditions=c, actions=a, position=i)
    c, a = rules.validate("created", [{"field": "body", "op": "contains", "value": "order"}],
                          [{"action": "add_tags", "value": ["orders"]}])
    Rule.objects.create(name="Orders", trigger="created", conditions=c, actions=a, position=48)
    c, a = rules.validate("customer_replied", [{"field": "priority", "op": "at_least", "value": 3}],
                          [{"action": "note", "value": "urgent follow-up"}])
    Rule.objects.create(name="Urgent follow-ups", trigger="customer_replied", conditions=c, actions=a, position=49)
    return agents


def child(messages: int, routing_on: bool) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from ingest import make_batch

    from routing.engine import run_pass
    from tickets import services
    from tickets.models import Ticket

    agents = configure() if routing_on else []
    batch = make_batch(messages)
    started = time.perf_counter()
    for i, msg in enumerate(batch, 1):
        services.ingest(msg)
        if routing_on and i % PASS_EVERY == 0:
            run_pass()
    if routing_on:
        run_pass()
    elapsed = time.perf_counter() - started
    spread = [Ticket.objects.filter(assignee=a).count() for a in agents]
    print(json.dumps({"vendor": connection.vendor, "seconds": elapsed, "rate": messages / elapsed,
                      "spread": spread, "unassigned": Ticket.objects.filter(assignee__isnull=True).count()
                      if routing_on else None}))


def run(messages: int, routing_on: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HELPDESK_VAR_DIR": tmp, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
               "HELPDESK_LOG_LEVEL": "WARNING"}
        args = [sys.executable, __file__, "--child", "--messages", str(messages)] + (["--routing"] if routing_on else [])
        out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--routing", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(args.messages, args.routing)
    # Alternate the runs so a noisy neighbour hurts both alike; keep each side's best.
    plain, routed = [], []
    for _ in range(2):
        plain.append(run(args.messages, False))
        routed.append(run(args.messages, True))
    base, with_routing = max(plain, key=lambda r: r["rate"]), max(routed, key=lambda r: r["rate"])
    slower = 1 - with_routing["rate"] / base["rate"]
    verdict = "meets" if slower <= TARGET else "MISSES"
    print(f"ingest without routing       {base['rate']:8.0f} messages/s")
    print(f"ingest with 50 rules + RR    {with_routing['rate']:8.0f} messages/s  ({slower:+.1%} slower; "
          f"target within {TARGET:.0%}: {verdict})")
    print(f"round-robin spread over {AGENTS} agents: {with_routing['spread']} "
          f"(unassigned: {with_routing['unassigned']})")


if __name__ == "__main__":
    main()
