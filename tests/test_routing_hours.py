"""Routing and business hours (service_levels schedules), with a fixed clock: the "inside /
outside business hours" condition, the SLA-warning trigger, and each inbox's out-of-hours
auto-reply (once per conversation, RFC 3834 on email, never to machine-made mail, not a reply
for service levels)."""

import itertools

import pytest

from routing import rules
from routing.engine import run_pass
from routing.models import Inbox, Rule
from service_levels import services as sla
from tests.factories import inbound
from tests.routing_helpers import routing_cursor  # noqa: F401 - autouse fixture
from tests.sla_helpers import T0, calendar_policy, fixed_clock  # noqa: F401 - fixture
from tickets import automated, services
from tickets.models import Message, Team, Ticket

pytestmark = pytest.mark.django_db
_n = itertools.count(1)
WEEKDAYS_9_TO_5 = [[d, 9 * 60, 17 * 60] for d in range(5)]  # UTC; T0 is Monday 09:00 UTC
OUT_OF_HOURS = 10 * 60  # minutes after T0: Monday 19:00
CLOSED = "We're closed now; we answer from 9:00 tomorrow."


def rule(actions, conditions=(), trigger="created", name="R"):
    conditions, actions = rules.validate(trigger, list(conditions), list(actions))
    return Rule.objects.create(name=name, trigger=trigger, conditions=conditions, actions=actions, position=next(_n))


def writes(sender="+14155550100", text="Hello", channel="fake", **kwargs):
    message = services.ingest(inbound(sender=sender, text=text, channel=channel, adapter=channel, **kwargs)).message
    run_pass()
    return Ticket.objects.get(pk=message.ticket_id)


def automated_replies(ticket, reason=automated.OUT_OF_HOURS):
    return list(Message.objects.filter(ticket=ticket, direction="outbound", meta__automated=reason))


@pytest.fixture
def office_hours():
    return sla.save_schedule(name="Office", timezone="UTC", intervals=WEEKDAYS_9_TO_5, is_default=True)


@pytest.mark.parametrize(("when", "minutes", "fires"), [
    ("outside", 30, False), ("outside", OUT_OF_HOURS, True), ("inside", 30, True), ("inside", OUT_OF_HOURS, False),
])
def test_business_hours_condition(clock, office_hours, when, minutes, fires):
    rule([{"action": "set_priority", "value": 2}], [{"field": "business_hours", "op": "is", "value": when}])
    clock.at(minutes)
    assert writes().priority == (2 if fires else 1)


def test_a_teams_own_schedule_decides_for_its_tickets(clock, office_hours):
    night = Team.objects.create(name="Night shift")
    sla.save_schedule(name="Nights", timezone="UTC", intervals=[[d, 18 * 60, 6 * 60] for d in range(7)], teams=[night])
    Inbox.objects.create(key="fake", name="Night line", team=night)
    rule([{"action": "add_tags", "value": "open-now"}], [{"field": "business_hours", "op": "is", "value": "inside"}])
    clock.at(OUT_OF_HOURS)  # 19:00: the office is closed, the night shift is working
    assert list(writes().tags.values_list("name", flat=True)) == ["open-now"]


def test_an_inboxs_own_schedule_comes_before_the_teams_and_the_default(clock, office_hours):
    sla.save_schedule(name="Evenings", timezone="UTC", intervals=[[0, 18 * 60, 22 * 60]], inboxes=["fake"])
    Inbox.objects.create(key="fake", name="Evening line", out_of_hours_reply=CLOSED)
    clock.at(OUT_OF_HOURS)  # Monday 19:00: the office is closed, the evening line is open
    assert automated_replies(writes()) == []
    clock.at(30)  # Monday 09:30: the office is open, the evening line is not
    assert [m.text for m in automated_replies(writes(sender="+14155550109"))] == [CLOSED]


def test_without_any_schedule_every_moment_is_inside(clock):
    rule([{"action": "set_priority", "value": 2}], [{"field": "business_hours", "op": "is", "value": "outside"}])
    clock.at(OUT_OF_HOURS)
    assert writes().priority == 1


def test_business_hours_condition_is_validated():
    with pytest.raises(Exception, match="business hours are 'inside' or 'outside'"):
        rules.validate("created", [{"field": "business_hours", "op": "is", "value": "lunch"}], [{"action": "auto_assign"}])
    with pytest.raises(Exception, match="cannot use 'contains'"):
        rules.validate("created", [{"field": "business_hours", "op": "contains", "value": "in"}],
                       [{"action": "auto_assign"}])


def test_an_sla_warning_fires_the_rules_that_wait_for_it(clock, django_user_model):
    from service_levels.tasks import sweep

    lead = django_user_model.objects.create_user("lead")
    calendar_policy(next_reply_minutes=None, resolution_minutes=None)  # first reply in 60 min, warned at 48
    rule([{"action": "set_priority", "value": 3}, {"action": "notify", "value": lead.pk}], trigger="sla_warning",
         name="Escalate")
    ticket = writes()
    assert ticket.priority == 1  # created: a warning rule does not fire
    clock.at(50)
    sweep.call()
    run_pass()
    ticket.refresh_from_db()
    assert ticket.priority == 3
    note = Message.objects.filter(ticket=ticket, direction="note").order_by("pk").last()
    assert note.text.startswith("Rule 'Escalate' set priority to Urgent; notified lead")
    run_pass()  # read once: the same warning never fires the rule again
    assert Message.objects.filter(ticket=ticket, direction="note", text__startswith="Rule 'Escalate'").count() == 1


def test_out_of_hours_auto_reply_once_per_conversation(clock, office_hours):
    Inbox.objects.create(key="fake", name="Phone line", out_of_hours_reply=CLOSED)
    clock.at(OUT_OF_HOURS)
    ticket = writes(text="Anyone there?")
    [reply] = automated_replies(ticket)
    assert (reply.text, reply.author_id, reply.status) == (CLOSED, None, "queued")
    clock.at(OUT_OF_HOURS + 5)
    assert writes(text="Hello??").pk == ticket.pk  # the same conversation: no second auto-reply
    assert len(automated_replies(ticket)) == 1
    ticket.refresh_from_db()
    # An automatic message: no first response, and the customer is still waiting for one.
    assert ticket.first_response_at is None and ticket.waiting_since is not None
    from service_levels.models import TicketMetrics

    assert TicketMetrics.objects.get(ticket=ticket).first_reply_at is None


def test_no_auto_reply_inside_hours_or_without_a_text(clock, office_hours):
    Inbox.objects.create(key="fake", name="Phone line", out_of_hours_reply=CLOSED)
    clock.at(30)
    assert automated_replies(writes(sender="+14155550101")) == []
    Inbox.objects.filter(key="fake").update(out_of_hours_reply="")
    clock.at(OUT_OF_HOURS)
    assert automated_replies(writes(sender="+14155550102")) == []


def test_each_inbox_has_its_own_text_and_the_channel_default_covers_the_rest(clock, office_hours):
    Inbox.objects.create(key="email", name="Support", out_of_hours_reply="Support is closed.")
    Inbox.objects.create(key="email:sales@x.test", name="Sales", out_of_hours_reply="Sales is closed.")
    clock.at(OUT_OF_HOURS)
    sales = writes(sender="a@example.com", channel="email", recipient="sales@x.test")
    other = writes(sender="b@example.com", channel="email", recipient="help@x.test")
    assert [m.text for m in automated_replies(sales)] == ["Sales is closed."]
    assert [m.text for m in automated_replies(other)] == ["Support is closed."]


def test_never_an_auto_reply_to_machine_made_mail(clock, office_hours):
    Inbox.objects.create(key="email", name="Support", out_of_hours_reply=CLOSED)
    clock.at(OUT_OF_HOURS)
    robot = writes(sender="noreply@shop.test", channel="email", meta={"auto_submitted": "Auto-Submitted: auto-replied"})
    assert automated_replies(robot) == []


def test_the_email_auto_reply_carries_rfc_3834_headers(clock, office_hours):
    from channels_email.outbound import build_reply

    Inbox.objects.create(key="email", name="Support", out_of_hours_reply=CLOSED)
    clock.at(OUT_OF_HOURS)
    [reply] = automated_replies(writes(sender="ada@example.com", channel="email"))
    mail = build_reply(Message.objects.select_related("ticket", "identity").get(pk=reply.pk))
    assert mail.extra_headers["Auto-Submitted"] == "auto-replied"
    assert mail.extra_headers["X-Auto-Response-Suppress"] == "All"
    assert mail.to == ["ada@example.com"] and CLOSED in mail.body


def test_an_agents_email_reply_is_not_marked_auto_submitted(django_user_model):
    from channels_email.outbound import build_reply

    agent = django_user_model.objects.create_user("agent")
    ticket = services.ingest(inbound(sender="ada@example.com", channel="email")).message.ticket
    reply = services.reply(ticket, author=agent, text="Here to help")
    assert "Auto-Submitted" not in build_reply(Message.objects.get(pk=reply.pk)).extra_headers


def test_an_out_of_hours_text_alone_switches_routing_on():
    from routing import engine, sinks

    assert not engine.is_configured()
    Inbox.objects.create(key="fake", name="Phone line", out_of_hours_reply=CLOSED)
    sinks.forget_configuration()
    assert sinks._is_configured() is True
    assert engine.is_configured()
