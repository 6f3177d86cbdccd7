"""Routing in the console: the availability switch and heartbeat, and the settings screen
(team leads only) with clear validation and a dry run."""

import pytest
from django.contrib.auth.models import Permission

from routing.models import AgentStatus, Inbox, Rule, TeamRouting
from tests.factories import inbound
from tests.routing_helpers import (
    console_open,
    routing_cursor,  # noqa: F401 - autouse fixture
)
from tickets import services
from tickets.models import Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(console, agent):
    agent.user_permissions.add(Permission.objects.get(codename="change_rule"))
    return console


def test_the_header_offers_the_switch_and_it_changes_the_agents_status(console, agent):
    page = console.get("/console/")
    assert b'id="availability-select"' in page.content and b"routing/routing.js" in page.content
    console_open(agent, status="away")
    answer = console.post("/console/routing/availability/", {"status": "online"}).json()
    assert answer == {"ok": True, "status": "online"}
    assert AgentStatus.objects.get(user=agent).status == "online"
    assert console.post("/console/routing/availability/", {"status": "asleep"}).status_code == 400


def test_the_heartbeat_reports_offline_without_an_open_console_and_records_activity(console, agent):
    assert console.post("/console/routing/heartbeat/", {"active": "1"}).json()["status"] == "offline"
    console_open(agent)
    assert console.post("/console/routing/heartbeat/", {"active": "1"}).json()["status"] == "online"
    assert AgentStatus.objects.get(user=agent).last_active_at is not None


def test_the_settings_screen_is_for_team_leads_only(console):
    assert console.get("/console/routing/").status_code == 403


def test_a_team_lead_sets_a_teams_mode_an_agents_capacity_and_an_inbox(lead, agent):
    team = Team.objects.create(name="Support")
    lead.post("/console/routing/", {"form": "team", "team": team.pk, "mode": "least_loaded"})
    assert TeamRouting.objects.get(team=team).mode == "least_loaded"
    lead.post("/console/routing/", {"form": "agent", "user": agent.pk, "capacity": "5", "channel_capacity": "chat=2"})
    status = AgentStatus.objects.get(user=agent)
    assert (status.capacity, status.channel_capacity) == (5, {"chat": 2})
    page = lead.post("/console/routing/", {"form": "agent", "user": agent.pk, "channel_capacity": "chat three"},
                     follow=True)
    assert "channel=number" in page.content.decode()
    lead.post("/console/routing/", {"form": "inbox", "key": "sms:+14155550100", "name": "US line", "team": team.pk})
    assert Inbox.objects.get(key="sms:+14155550100").team == team
    assert "US line" in lead.get("/console/routing/").content.decode()


def test_a_rule_is_written_as_lines_validated_dry_run_then_saved(lead):
    Team.objects.create(name="Billing")
    hit = services.ingest(inbound(subject="Refund please", sender="r@example.com")).message.ticket
    services.ingest(inbound(subject="Hello", sender="h@example.com"))
    bad = lead.post("/console/routing/rules/new/", {"name": "Refunds", "trigger": "created", "position": 1,
                                                    "is_active": "on", "conditions_text": "subject is refund",
                                                    "actions_text": "set_team Nowhere"})
    text = bad.content.decode()
    assert "subject cannot use &#x27;is&#x27;" in text and "choose an existing one" in text
    assert not Rule.objects.exists()
    data = {"name": "Refunds", "trigger": "created", "position": 1, "is_active": "on",
            "conditions_text": "subject contains refund", "actions_text": "set_team Billing\nset_priority high"}
    dry = lead.post("/console/routing/rules/new/", {**data, "dry_run": "1"})
    assert [t.pk for t in dry.context["matches"]] == [hit.pk] and not Rule.objects.exists()
    lead.post("/console/routing/rules/new/", {**data, "save": "1"})
    rule = Rule.objects.get()
    assert rule.conditions == [{"field": "subject", "op": "contains", "value": "refund"}]
    assert rule.actions == [{"action": "set_team", "value": Team.objects.get(name="Billing").pk},
                            {"action": "set_priority", "value": 2}]
    edit = lead.get(f"/console/routing/rules/{rule.pk}/").content.decode()
    assert "set_team Billing" in edit


def test_everyones_availability_for_the_names_in_the_console(console, agent, bob):
    console_open(bob, status="away")
    answer = console.get("/console/routing/agents/").json()["agents"]
    assert answer == {str(agent.pk): "offline", str(bob.pk): "away"}
