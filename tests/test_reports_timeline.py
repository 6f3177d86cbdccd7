"""The scripted timeline: tickets across channels with known events on a fixed clock, and every
report figure asserted to the second. The same test runs on SQLite and, in CI's second pass,
on PostgreSQL: the same numbers on both.

The story (minutes from T0 = Monday 2026-11-30 09:00 UTC; business hours Mon-Fri 09:00-17:00
UTC; policy: first reply 60, next reply 30, resolution 240 calendar minutes):

  A email     customer 0; automatic acknowledgement 1; note 6; Agnes replies 10; solved 20;
              the survey answer (a "5" filed on the ticket) 25: not a customer message.
  B sms       customer 0; Bob's reply 30 FAILS; Agnes replies 40 (first reply: Agnes, 40 min);
              customer 50; Agnes 70 (next reply 20 min); solved 80.
  C whatsapp  customer 0; Bob replies 15; solved 20; customer writes 100 (reopened; first reply
              stays 15 min); Bob replies 130 (next reply 30 min); solved 140.
  D email     customer 0; never answered: in the backlog, left out of reply times.
  E email     customer -120 (07:00, before opening); Agnes replies 30 (calendar 150 min, business
              30 min: first reply breached); solved 300 (full resolution 420 / 300 business min).
  F sms       another customer writes 10, never answered; that customer is merged into A's.
  G telegram  customer 0; Agnes replies 10; Agnes opens H for the same customer 20; the customer
              writes 30 (lands on H) and the message is moved to G 31; Agnes replies 40 (next
              reply 10 min, measured on G); solved 50.
  H telegram  opened by Agnes 20, no customer message left: backlog.
  I email     Tuesday 10:00: a new ticket, open.
Surveys: A rated 5 while assigned to Agnes; C rated 2 while assigned to Bob (then reassigned to
Agnes: the rating stays Bob's); B sent, never answered.
"""

from datetime import datetime, timedelta

import pytest

from reports import figures, params
from service_levels import services as sla
from surveys import services as survey_services
from surveys.models import Survey
from tests.factories import inbound
from tests.sla_helpers import T0, calendar_policy, fixed_clock  # noqa: F401
from tickets import services, testing
from tickets.models import Customer, Message, Team, Ticket

pytestmark = pytest.mark.django_db


def writes(sender, channel, text="help", **kwargs):
    return services.ingest(inbound(sender, text, channel=channel, adapter="fake", **kwargs)).message


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def sent_survey(ticket, minutes):
    Survey.objects.filter(ticket=ticket).update(status=Survey.Status.SENT, sent_at=at(minutes), channel=ticket.channel,
                                                expires_at=at(minutes + 72 * 60))
    return Survey.objects.get(ticket=ticket)


@pytest.fixture
def story(clock, agent, bob, run_tasks, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    sla.save_schedule(name="Office", timezone="UTC", intervals=[[d, 540, 1020] for d in range(5)], is_default=True)
    calendar_policy()
    sales = Team.objects.create(name="Sales")
    t = {}
    clock.at(-120)
    t["E"] = writes("eve@example.com", "email", "Since last night").ticket
    clock.at(0)
    t["A"] = writes("ada@example.com", "email", "Where is my parcel?").ticket
    t["B"] = writes("+14155550101", "sms", "Card declined").ticket
    t["C"] = writes("+14155550102", "whatsapp", "App crashes").ticket
    t["D"] = writes("dan@example.com", "email", "Hello?").ticket
    t["G"] = writes("tg-700", "telegram", "Order 1").ticket
    services.assign(t["A"], assignee=agent, actor=agent)
    services.assign(t["E"], assignee=agent, team=sales, actor=agent)
    services.set_tags(t["A"], ["billing"], actor=agent)
    services.set_tags(t["C"], ["billing", "app"], actor=agent)
    clock.at(1)
    services.reply(t["A"], author=None, text="We got your message", meta={"automated": "acknowledgement"})
    clock.at(6)
    services.note(t["A"], author=agent, text="checking the carrier")
    clock.at(10)
    services.reply(t["A"], author=agent, text="It arrives today")
    services.reply(t["G"], author=agent, text="Shipped")
    t["F"] = writes("+14155550199", "sms", "Refund?").ticket
    clock.at(14)
    services.assign(t["C"], assignee=bob, actor=bob)
    clock.at(15)
    services.reply(t["C"], author=bob, text="Update the app")
    clock.at(20)
    services.set_status(t["A"], "solved", actor=agent)
    services.set_status(t["C"], "solved", actor=bob)
    t["H"] = services.open_ticket(t["G"].customer, actor=agent, subject="Order 2", channel="telegram")
    clock.at(25)  # A's survey answer, as the surveys inbound hook files it: no request
    answer = inbound("ada@example.com", "5", channel="email", adapter="fake")
    services.file_aside(answer, Message.objects.filter(ticket=t["A"], direction="inbound").first().identity, t["A"],
                        meta={"survey_answer": 5})
    clock.at(30)
    with capture(execute=True):
        run_tasks()  # the replies so far go out
    testing.refuse_next()
    with capture(execute=True):
        services.reply(t["B"], author=bob, text="Try again")
    with capture(execute=True):
        run_tasks()  # the provider refuses Bob's reply: it never counted
    assert Message.objects.get(ticket=t["B"], author=bob).status == Message.Status.FAILED
    services.reply(t["E"], author=agent, text="Good morning, fixed")
    stray = writes("tg-700", "telegram", "Order 1 again")
    assert stray.ticket_id == t["H"].pk
    clock.at(31)
    services.move_message(stray, t["G"], actor=agent)
    clock.at(40)
    services.reply(t["B"], author=agent, text="Use another card")
    services.reply(t["G"], author=agent, text="Both shipped")
    clock.at(50)
    writes("+14155550101", "sms", "Still declined")
    services.set_status(t["G"], "solved", actor=agent)
    clock.at(70)
    services.reply(t["B"], author=agent, text="Fixed on our side")
    clock.at(80)
    services.set_status(t["B"], "solved", actor=agent)
    clock.at(100)
    writes("+14155550102", "whatsapp", "Crashes again")  # reopens C
    clock.at(130)
    services.reply(t["C"], author=bob, text="Reinstall")
    clock.at(140)
    services.set_status(t["C"], "solved", actor=bob)
    clock.at(150)
    survey_services.record_rating(sent_survey(t["A"], 90), 5, via="link")
    sent_survey(t["B"], 150)
    survey_services.record_rating(sent_survey(t["C"], 150), 2, via="whatsapp")
    clock.at(160)
    services.assign(Ticket.objects.get(pk=t["C"].pk), assignee=agent, actor=agent)  # the rating stays Bob's
    services.merge_customers(t["F"].customer, t["A"].customer, actor=agent)
    clock.at(300)
    services.set_status(t["E"], "solved", actor=agent)
    clock.at(25 * 60)
    t["I"] = writes("ivy@example.com", "email", "New question").ticket
    clock.at(26 * 60)
    return {k: Ticket.objects.get(pk=v.pk) for k, v in t.items()}


def two_days(user=None, **extra):
    return params.parse({"period": "custom", "start": "2026-11-30", "end": "2026-12-01", "tz": "UTC", **extra}, user)


def test_every_figure_of_the_scripted_timeline(story, agent, bob):
    f = figures.summary(two_days())["figures"]
    assert f["created"] == {"value": 9}
    assert f["solved"] == {"value": 5}
    assert f["backlog"] == {"value": 4}  # D, F, H, I
    # First reply: A 10, B 40 (Bob's failed reply does not count), C 15 (not again after the
    # reopen), E 150 (30 in business hours), G 10 minutes; D and F never answered: left out.
    assert f["first_reply_time"] == {"value": 900, "median": 900, "p90": 2400 + 0.6 * 6600, "business_median": 900,
                                     "business_p90": 1800 + 0.6 * 600, "count": 5}
    assert f["next_reply_time"] == {"value": 1200, "median": 1200, "p90": 1200 + 0.8 * 600, "business_median": 1200,
                                    "business_p90": 1200 + 0.8 * 600, "count": 3}
    assert f["full_resolution_time"] == {"value": 4800, "median": 4800, "p90": 8400 + 0.6 * 16800,
                                         "business_median": 4800, "business_p90": 8400 + 0.6 * 9600, "count": 5}
    assert f["sla_achievement"]["by_target"] == {
        "first_reply": {"value": 4 / 5, "numerator": 4, "denominator": 5},
        "next_reply": {"value": 1.0, "numerator": 3, "denominator": 3},
        "resolution": {"value": 4 / 5, "numerator": 4, "denominator": 5}}
    assert (f["sla_achievement"]["numerator"], f["sla_achievement"]["denominator"]) == (11, 13)
    assert f["reopen_rate"] == {"value": 1 / 5, "numerator": 1, "denominator": 5}
    assert f["one_touch_rate"] == {"value": 2 / 5, "numerator": 2, "denominator": 5}  # A and E
    assert f["csat"] == {"value": 0.5, "numerator": 1, "denominator": 2}
    assert f["survey_response_rate"] == {"value": 2 / 3, "numerator": 2, "denominator": 3}
    # A 1+1 (acknowledgement, note and survey answer left out), B 2+2 (the failed reply left
    # out), C 2+2, E 1+1, G 2+2 (the moved message counts on G).
    assert f["messages_per_ticket"] == {"value": 16 / 5, "total": 16, "count": 5}


def test_drill_downs_list_the_tickets_and_values_behind_each_figure(story):
    q = two_days()
    frt = {r["ticket"]: (r["calendar_seconds"], r["business_seconds"], r["agent_name"])
           for r in figures.drill(q, "first_reply_time")}
    s = story
    assert frt == {s["A"].pk: (600, 600, "Agnes"), s["B"].pk: (2400, 2400, "Agnes"), s["C"].pk: (900, 900, "Bob"),
                   s["E"].pk: (9000, 1800, "Agnes"), s["G"].pk: (600, 600, "Agnes")}
    assert {r["ticket"] for r in figures.drill(q, "backlog", bucket="2026-11-30")} == {s[k].pk for k in "DFH"}
    assert {r["ticket"] for r in figures.drill(q, "backlog")} == {s[k].pk for k in "DFHI"}
    reopened = [r for r in figures.drill(q, "reopen_rate") if r["counted"]]
    assert [(r["ticket"], r["reopens"]) for r in reopened] == [(s["C"].pk, 1)]
    breached = {(r["ticket"], r["target"]) for r in figures.drill(q, "sla_achievement") if r["state"] == "breached"}
    assert breached == {(s["E"].pk, "first_reply"), (s["E"].pk, "resolution")}
    assert {r["ticket"]: r["rating"] for r in figures.drill(q, "csat")} == {s["A"].pk: 5, s["C"].pk: 2}
    assert [r["ticket"] for r in figures.drill(q, "created", bucket="2026-12-01")] == [s["I"].pk]
    assert figures.drill(q, "created", bucket="2026-11-30")[0]["subject"] == "Since last night"


def test_series_are_bucketed_per_day(story):
    q = two_days()
    values = lambda name: [p["value"] for p in figures.series(q, name)["points"]]  # noqa: E731
    assert values("created") == [8, 1]
    assert values("solved") == [5, 0]
    assert values("backlog") == [3, 4]
    assert values("csat") == [0.5, None]
    assert [p["start"] for p in figures.series(q, "created")["points"]] == ["2026-11-30", "2026-12-01"]
    # A period that ended before now: its backlog is counted back from today's (I came later).
    first_day = params.parse({"period": "custom", "start": "2026-11-30", "end": "2026-11-30", "tz": "UTC"})
    assert figures.summary(first_day)["figures"]["backlog"] == {"value": 3}


def test_breakdowns_credit_the_first_replier_and_the_agent_rated(story, agent, bob):
    q = two_days()
    by_agent = {r["label"]: r for r in figures.breakdown(q, "first_reply_time", "agent")["rows"]}
    assert by_agent["Agnes"]["count"] == 4 and by_agent["Agnes"]["median"] == 1500  # 600, 600, 2400, 9000
    assert by_agent["Bob"]["count"] == 1 and by_agent["Bob"]["median"] == 900
    csat = {r["label"]: (r["numerator"], r["denominator"]) for r in figures.breakdown(q, "csat", "agent")["rows"]}
    assert csat == {"Agnes": (1, 1), "Bob": (0, 1)}  # C was rated while Bob's
    by_channel = {r["key"]: r["value"] for r in figures.breakdown(q, "created", "channel")["rows"]}
    assert by_channel == {"email": 4, "sms": 2, "whatsapp": 1, "telegram": 2}
    by_tag = {r["label"]: r["value"] for r in figures.breakdown(q, "solved", "tag")["rows"]}
    assert by_tag == {"billing": 2, "app": 1, "(none)": 3}  # C counts under both of its tags
    backlog = {r["key"]: r["value"] for r in figures.breakdown(q, "backlog", "channel")["rows"]}
    assert backlog == {"email": 2, "sms": 1, "telegram": 1}


def test_filters_and_visibility(story, agent, restricted):
    assert figures.summary(two_days(channel="email"))["figures"]["created"] == {"value": 4}
    assert figures.summary(two_days(agent=str(agent.pk)))["figures"]["solved"] == {"value": 4}
    assert figures.summary(two_days(tag=str(story["A"].tags.get().pk)))["figures"]["solved"] == {"value": 2}
    assert figures.summary(two_days(priority="1"))["figures"]["created"] == {"value": 9}
    # Rita sees the tickets of her team and those of no team: E is Sales'.
    seen = figures.summary(two_days(restricted))["figures"]
    assert seen["created"] == {"value": 8} and seen["solved"] == {"value": 4}
    assert story["E"].pk not in {r["ticket"] for r in figures.drill(two_days(restricted), "first_reply_time")}


def test_merging_customers_changes_no_figure(story, agent):
    before = figures.summary(two_days())["figures"]
    merged = Customer.objects.filter(merged_into__isnull=False).get()
    services.undo_merge(merged.merges_out.get(), actor=agent)
    assert figures.summary(two_days())["figures"] == before


def test_the_team_time_zone_buckets_the_days(clock, agent):
    sla.save_schedule(name="Berlin", timezone="Europe/Berlin", intervals=[[d, 540, 1020] for d in range(5)],
                      is_default=True)
    clock.now = datetime.fromisoformat("2026-11-30T23:30:00+00:00")  # 00:30 on 1 December in Berlin
    writes("late@example.com", "email")
    clock.now = datetime.fromisoformat("2026-12-01T12:00:00+00:00")
    q = params.parse({"period": "7d"}, agent)
    assert q.period.tz.key == "Europe/Berlin"
    points = {p["start"]: p["value"] for p in figures.series(q, "created")["points"]}
    assert points["2026-12-01"] == 1 and points["2026-11-30"] == 0 and len(points) == 7
