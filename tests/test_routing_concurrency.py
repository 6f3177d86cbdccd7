"""Automatic assignment under real concurrency: two server processes take 500 arriving
tickets (webhooks from eight client threads) while two task workers run routing passes, on
PostgreSQL. Every ticket is assigned exactly once, nobody goes over capacity, and round-robin
stays fair (the spread is printed: pytest -s)."""

import json
import logging
import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from routing.models import AgentStatus, Inbox, TeamRouting
from tests.fakes.channel import sign
from tests.test_scaleout import ROOT, free_port, wait_for_port
from tickets.models import AgentPresence, Event, Team, Ticket

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]
TICKETS = int(os.environ.get("ROUTING_LOAD_TICKETS", "500"))


@pytest.fixture
def servers_and_workers():
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "DJANGO_SECRET_KEY": settings.SECRET_KEY, "HELPDESK_VAR_DIR": str(settings.VAR_DIR),
           "HELPDESK_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    ports = [free_port(), free_port()]
    manage = [sys.executable, str(ROOT / "manage.py")]
    servers = [subprocess.Popen([*manage, "serve", "--no-worker", "--port", str(p)], env=env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for p in ports]
    log = open(settings.VAR_DIR / "routing-workers.log", "w")  # noqa: SIM115 - closed below
    workers = [subprocess.Popen([*manage, "db_worker", "--interval", "0.2", "--no-startup-delay", "--queue-name", "*",
                                 "--worker-id", f"routing-{i}"], env=env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT) for i in range(2)]
    try:
        for port, proc in zip(ports, servers, strict=True):
            wait_for_port(port, proc)
        yield ports
    finally:
        for proc in servers + workers:
            proc.terminate()
        for proc in servers + workers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def _post(port, i):
    body = json.dumps({"messages": [{"id": f"arrive-{i}", "from": f"visitor-{i}", "text": f"help {i}"}]}).encode()
    response = httpx.post(f"http://127.0.0.1:{port}/channels/fake/", content=body, timeout=60,
                          headers={"X-Fake-Signature": sign(body), "Content-Type": "application/json"})
    assert response.status_code == 200, response.text


def test_two_processes_and_two_workers_assign_500_tickets_once_each_within_capacity(
        servers_and_workers, django_user_model):
    import time

    from django.db import transaction

    from routing.engine import locked_state

    with transaction.atomic():
        locked_state()  # routing reads the log from here (the migration does this on install)
    capacities = [100, 100, 100, 100, 100, 50]  # 550 places for 500 tickets; one agent fills up
    agents = [django_user_model.objects.create_user(f"rr{i}") for i in range(len(capacities))]
    team = Team.objects.create(name="Front line")
    team.members.add(*agents)
    TeamRouting.objects.create(team=team, mode=TeamRouting.Mode.ROUND_ROBIN)
    Inbox.objects.create(key="fake", name="Test channel", team=team)
    for i, (agent, capacity) in enumerate(zip(agents, capacities, strict=True)):
        # A console that keeps heartbeating for the whole test.
        AgentPresence.objects.create(user=agent, connection=f"load-{i}", last_seen=timezone.now() + timedelta(hours=1))
        AgentStatus.objects.create(user=agent, status="online", capacity=capacity, last_active_at=timezone.now())

    ports = servers_and_workers
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: _post(ports[i % 2], i), range(TICKETS)))

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if not Ticket.objects.filter(assignee__isnull=True).exists() and Ticket.objects.count() == TICKETS:
            break
        time.sleep(1)

    tickets = list(Ticket.objects.values_list("pk", "assignee_id", "team_id"))
    from django_tasks_db.models import DBTaskResult

    failed = list(DBTaskResult.objects.filter(status="FAILED").values_list("task_path", "traceback")[:3])
    assert failed == [], (settings.VAR_DIR / "routing-workers.log").read_text()[-3000:]
    assert len(tickets) == TICKETS
    assert all(team_id == team.pk for _pk, _a, team_id in tickets)
    assert all(assignee is not None for _pk, assignee, _t in tickets), "some tickets were never assigned"
    assignments = Counter(Event.objects.filter(kind="ticket.updated", data__change="assignment",
                                               data__actor="Auto-assignment")
                          .values_list("ticket_id", flat=True))
    assert set(assignments.values()) == {1} and len(assignments) == TICKETS  # each assigned exactly once
    load = Counter(assignee for _pk, assignee, _t in tickets)
    for agent, capacity in zip(agents, capacities, strict=True):
        assert load[agent.pk] <= capacity
    spread = [load[a.pk] for a in agents]
    print(f"\nround-robin spread over {len(agents)} agents (capacities {capacities}): {spread}")
    # Fair: among agents with room left, nobody got more than one ticket more than another.
    with_room = [n for n, capacity in zip(spread, capacities, strict=True) if n < capacity]
    assert max(with_room) - min(with_room) <= 1
    assert all(n == capacity for n, capacity in zip(spread, capacities, strict=True) if n > max(with_room))
