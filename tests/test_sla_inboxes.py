"""Schedules per inbox: a ticket works to its inbox's hours, else its team's, else the default;
edited on the settings screen; and the two functions routing calls (schedule_for, is_open)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from routing.models import Inbox
from service_levels import services as sla
from service_levels.hours import is_open, schedule_for
from service_levels.models import Schedule
from tests.factories import inbound
from tests.sla_helpers import T0, fixed_clock, targets  # noqa: F401
from tickets import services
from tickets.models import Team

pytestmark = pytest.mark.django_db

WEEKDAYS_9_TO_5 = [[d, 540, 1020] for d in range(5)]
WEEKDAYS_13_TO_21 = [[d, 780, 1260] for d in range(5)]


@pytest.fixture
def lead(client, agent):
    agent.user_permissions.add(Permission.objects.get(codename="change_policy"))
    client.force_login(agent)
    return client


def write_to(recipient, sender="ada@example.com"):
    return services.ingest(inbound(sender, "help", channel="email", recipient=recipient)).message.ticket


def test_a_ticket_works_to_its_inbox_hours_before_the_default(clock):
    sla.save_schedule(name="London", timezone="UTC", intervals=WEEKDAYS_9_TO_5, is_default=True)
    sla.save_schedule(name="Late shift", timezone="UTC", intervals=WEEKDAYS_13_TO_21,
                      inboxes=["email:late@example.com"])
    sla.save_policy(name="Business", first_reply_minutes=60, first_reply_business=True)
    early = write_to("support@example.com", sender="ada@example.com")  # T0 is Monday 09:00
    late = write_to("late@example.com", sender="bob@example.com")
    assert late.inbox == "email:late@example.com"
    assert targets(early)[1]["first_reply"]["due"] == (T0 + timedelta(hours=1)).isoformat()
    # The late inbox opens at 13:00: its hour of first reply ends at 14:00.
    assert targets(late)[1]["first_reply"]["due"] == (T0 + timedelta(hours=5)).isoformat()


def test_schedule_for_prefers_the_inbox_then_the_team_then_the_default():
    team = Team.objects.create(name="Nights")
    default = sla.save_schedule(name="Office", timezone="UTC", intervals=WEEKDAYS_9_TO_5, is_default=True)
    sla.save_schedule(name="Team", timezone="UTC", intervals=[[d, 0, 360] for d in range(7)], teams=[team])
    sla.save_schedule(name="Inbox", timezone="UTC", intervals=WEEKDAYS_13_TO_21, inboxes=["sms:+14155550100"])
    monday_10, monday_14 = T0 + timedelta(hours=1), T0 + timedelta(hours=5)

    inbox_hours = schedule_for("sms:+14155550100", team.pk)
    assert not is_open(inbox_hours, monday_10) and is_open(inbox_hours, monday_14)
    team_hours = schedule_for("email:other@example.com", team.pk)
    assert not is_open(team_hours, monday_10) and is_open(team_hours, T0 - timedelta(hours=5))
    default_hours = schedule_for("email:other@example.com")
    assert is_open(default_hours, monday_10) and not is_open(default_hours, monday_14 + timedelta(hours=4))
    assert default_hours.next_open(T0 + timedelta(hours=9)) == T0 + timedelta(days=1)  # Tuesday 09:00

    ticket = write_to("+14155550100")  # a ticket: its inbox and team
    ticket.inbox, ticket.team_id = "sms:+14155550100", team.pk
    assert schedule_for(ticket) is inbox_hours

    default.delete()
    sla.save_schedule(name="Office", timezone="UTC", intervals=WEEKDAYS_9_TO_5)  # no default any more
    assert schedule_for("email:other@example.com") is None
    assert is_open(None, monday_14 + timedelta(hours=10))  # no schedule: never closed


def test_a_lead_chooses_inboxes_and_one_inbox_has_one_schedule(lead):
    Inbox.objects.create(key="email:support@example.com", name="Support mail")
    Inbox.objects.create(key="chat:demo", name="Website chat")
    form = lead.get("/console/sla/settings/schedules/new/").content.decode()
    assert "Support mail (email:support@example.com)" in form and "Website chat (chat:demo)" in form

    response = lead.post("/console/sla/settings/schedules/new/", {
        "name": "Chat hours", "timezone": "UTC", "hours": "Mon-Fri 08:00-20:00", "inboxes": ["chat:demo"]})
    assert response.status_code == 302
    assert Schedule.objects.get(name="Chat hours").inboxes == ["chat:demo"]
    assert "chat:demo" in lead.get("/console/sla/settings/").content.decode()

    response = lead.post("/console/sla/settings/schedules/new/", {
        "name": "Other", "timezone": "UTC", "hours": "Mon-Fri 09:00-17:00", "inboxes": ["chat:demo"]})
    assert response.status_code == 200
    assert "The inbox chat:demo already works to the schedule “Chat hours”." in response.content.decode()
    response = lead.post("/console/sla/settings/schedules/new/", {
        "name": "Other", "timezone": "UTC", "hours": "Mon-Fri 09:00-17:00", "inboxes": ["email:nobody@example.com"]})
    assert response.status_code == 200 and "is not one of the available choices" in response.content.decode()
    assert not Schedule.objects.filter(name="Other").exists()
