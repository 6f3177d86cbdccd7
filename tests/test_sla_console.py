"""The console side of service levels: the settings screen for team leads (with its
validation errors), the badges and the "Breaching soon" view at a constant number of queries,
and the ticket's list of targets."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from service_levels.models import Policy, Schedule
from tests.sla_helpers import T0, calendar_policy, customer_writes, fixed_clock  # noqa: F401
from tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(client, agent):
    agent.user_permissions.add(Permission.objects.get(codename="change_policy"))
    client.force_login(agent)
    return client


def test_agents_who_are_not_leads_cannot_change_service_levels(console):
    assert console.get("/console/sla/settings/").status_code == 403
    assert console.post("/console/sla/settings/policies/new/", {"name": "x"}).status_code == 403


@pytest.mark.parametrize(("hours", "zone", "error"), [
    ("Mon-Fri 09:00-17:00\nWed 16:00-18:00", "Europe/London", "Wed 09:00-17:00 overlaps Wed 16:00-18:00"),
    ("Sun 22:00-02:00\nMon 01:00-05:00", "Europe/London", "Sun 22:00-02:00 overlaps Mon 01:00-05:00"),
    ("Mon-Fri 09:00-17:00", "Europe/Londres", "“Europe/Londres” is not a known time zone"),
    ("Mon-Fri 9 to 5", "UTC", "Line 1: “Mon-Fri 9 to 5” is not like “Mon-Fri 09:00-17:30”"),
    ("Mon 09:00-09:00", "UTC", "Mon 09:00-09:00 is empty"),
])
def test_a_schedule_with_a_mistake_is_refused_with_a_clear_error(lead, hours, zone, error):
    response = lead.post("/console/sla/settings/schedules/new/", {"name": "Office", "timezone": zone, "hours": hours})
    assert response.status_code == 200 and error in response.content.decode()
    assert not Schedule.objects.exists()


def test_a_lead_saves_a_schedule_with_holidays_and_a_night_shift(lead):
    response = lead.post("/console/sla/settings/schedules/new/", {
        "name": "London office", "timezone": "Europe/London", "is_default": "on",
        "hours": "Mon-Fri 09:00-17:30\nFri 22:00-02:00",
        "holidays": "2026-12-25 Christmas Day\n2026-12-28..2026-12-31 Office closed\nyearly 01-01 New Year"})
    assert response.status_code == 302
    schedule = Schedule.objects.get()
    assert schedule.is_default and [4, 1320, 120] in schedule.intervals and len(schedule.intervals) == 6
    assert schedule.holidays[2] == {"start": "2000-01-01", "end": "2000-01-01", "yearly": True, "name": "New Year"}
    page = lead.get(f"/console/sla/settings/schedules/{schedule.pk}/").content.decode()
    assert "Fri 22:00-02:00" in page and "yearly 01-01 New Year" in page


def test_a_policy_target_of_zero_is_refused(lead):
    response = lead.post("/console/sla/settings/policies/new/", {"name": "Bad", "first_reply_minutes": "0",
                                                                  "warn_percent": "80"})
    assert "A target of zero cannot be met" in response.content.decode()
    assert not Policy.objects.exists()


def test_policies_are_saved_and_reordered_on_the_settings_screen(lead):
    for name in ("VIP", "Standard"):
        assert lead.post("/console/sla/settings/policies/new/", {
            "name": name, "is_active": "on", "channels": "email, sms", "first_reply_minutes": "60",
            "warn_percent": "80"}).status_code == 302
    standard = Policy.objects.get(name="Standard")
    assert standard.channels == ["email", "sms"]
    lead.post("/console/sla/settings/action/", {"action": "up", "pk": standard.pk})
    assert list(Policy.objects.values_list("name", flat=True)) == ["Standard", "VIP"]
    assert "Standard" in lead.get("/console/sla/settings/").content.decode()


def make_tickets(n, start=0):
    return [customer_writes(sender=f"visitor-{i}").ticket for i in range(start, start + n)]


def queries_of(console, url):
    with CaptureQueriesContext(connection) as captured:
        response = console.get(url)
    assert response.status_code == 200
    return len(captured), response


def test_badges_and_breaching_soon_take_a_constant_number_of_queries(clock, console, agent):
    calendar_policy(first_reply_minutes=30)
    few = make_tickets(3)
    badges = f"/console/sla/badges/?ids={','.join(str(t.pk) for t in few)}"
    small_badges, _r = queries_of(console, badges)
    small_soon, _r = queries_of(console, "/console/sla/")
    many = few + make_tickets(40, start=3)
    services.assign(many[5], assignee=agent, actor=agent)
    services.set_tags(many[6], ["vip"], actor=agent)
    big_badges, response = queries_of(console, f"/console/sla/badges/?ids={','.join(str(t.pk) for t in many)}")
    assert big_badges == small_badges
    assert response.json()["badges"][str(many[0].pk)] == {
        "due": (T0 + timedelta(minutes=30)).isoformat(), "warn": (T0 + timedelta(minutes=24)).isoformat(),
        "kind": "first_reply"}
    big_soon, response = queries_of(console, "/console/sla/")
    assert big_soon == small_soon and len(response.context["tickets"]) == 43


def test_breaching_soon_lists_only_tickets_due_within_the_hour_by_deadline(clock, console, agent):
    calendar_policy(name="Slow", first_reply_minutes=600, channels=["fake"], priorities=[0])
    calendar_policy(first_reply_minutes=30)
    urgent, later = make_tickets(2)
    services.set_priority(later, 0, actor=agent)  # now the slow policy: due in 10 hours
    clock.at(1)
    third = make_tickets(1, start=2)[0]
    ids = [row.pk for row in console.get("/console/sla/").context["tickets"]]
    assert ids == [urgent.pk, third.pk]
    by_deadline = [row.pk for row in console.get("/console/sla/?sort=deadline").context["tickets"]]
    assert by_deadline == [urgent.pk, third.pk, later.pk]


def test_the_ticket_page_lists_each_target_with_its_state(clock, console, agent):
    calendar_policy()
    ticket = customer_writes().ticket
    clock.at(12)
    services.reply(ticket, author=agent, text="Hello")
    page = console.get(f"/console/sla/tickets/{ticket.pk}/").content.decode()
    assert "achieved in 12 min" in page and "target 60 min" in page and "Policy: Standard" in page
    assert f'data-due="{(T0 + timedelta(minutes=240)).isoformat()}"' in page  # resolution, counting down


def test_the_main_queue_sorts_by_next_deadline_in_a_constant_number_of_queries(clock, console, agent):
    calendar_policy(name="Slow", first_reply_minutes=600, channels=["fake"], priorities=[0])
    calendar_policy(first_reply_minutes=30)
    first, slow = make_tickets(2)
    services.set_priority(slow, 0, actor=agent)  # the slow policy: due in 10 hours
    clock.at(1)
    second = make_tickets(1, start=2)[0]
    clock.at(2)
    replied = make_tickets(1, start=3)[0]
    services.reply(replied, author=agent, text="Done")
    services.set_status(replied, "pending", actor=agent)  # no deadline running: after the others
    few, response = queries_of(console, "/console/?sort=deadline")
    assert [row.pk for row in response.context["tickets"]] == [first.pk, second.pk, slow.pk, replied.pk]
    page = response.content.decode()
    assert 'data-sort="deadline" aria-current="true"' in page and "By next deadline" in page
    assert 'href="/console/?view=mine&amp;sort=deadline"' in page  # the views keep the order (absolute: the ticket page's pane shows them too)
    default = [row.pk for row in console.get("/console/").context["tickets"]]
    assert default[:3] == [first.pk, slow.pk, second.pk]  # longest waiting first, as before
    services.assign(second, assignee=agent, actor=agent)
    assert [r.pk for r in console.get("/console/?view=mine&sort=deadline").context["tickets"]] == [second.pk]

    make_tickets(40, start=10)
    many, response = queries_of(console, "/console/?sort=deadline")
    assert many == few and len(response.context["tickets"]) == 44
    assert response.context["tickets"][0].pk == first.pk


@pytest.mark.django_db(transaction=True)
def test_the_demo_has_a_schedule_policies_and_tickets_with_badges(client):
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from service_levels.models import TicketMetrics

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_service_levels", stdout=StringIO())  # again: nothing doubles
    assert Schedule.objects.get().is_default and Schedule.objects.get().name == "Office hours"
    assert list(Policy.objects.values_list("name", flat=True)) == ["Urgent", "Messaging", "Standard"]
    metrics = TicketMetrics.objects.filter(next_due_at__isnull=False)
    assert metrics.count() >= 5 and {m.policy_name for m in metrics} == {"Messaging", "Standard"}
    alice = get_user_model().objects.get(username="alice")
    client.force_login(alice)
    assert client.get("/console/sla/settings/").status_code == 200  # alice leads the demo team
    ids = ",".join(str(m.ticket_id) for m in metrics)
    assert len(client.get(f"/console/sla/badges/?ids={ids}").json()["badges"]) == metrics.count()
