"""Rules: every condition and action, the timeline note and events they leave, loop
protection, a failing rule skipped without losing anything, validation and the dry run."""

import itertools

import pytest
from django.core.exceptions import ValidationError

from routing import rules
from routing.engine import dry_run, run_pass
from routing.models import Rule
from tests.factories import inbound
from tests.fakes import channel as testing
from tests.routing_helpers import routing_cursor  # noqa: F401 - autouse fixture
from tickets import services
from tickets.models import CannedResponse, Event, Mention, Message, Team, Ticket

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


def rule(actions, conditions=(), trigger="created", name="R", **kwargs):
    conditions, actions = rules.validate(trigger, list(conditions), list(actions))
    return Rule.objects.create(name=name, trigger=trigger, conditions=conditions, actions=actions,
                               position=next(_n), **kwargs)


def arrive(text="Hello", subject="", channel="email", sender=None, **kwargs):
    sender = sender or (f"c{next(_n)}@example.com" if channel == "email" else f"+1415555{next(_n):04d}")
    ticket = services.ingest(inbound(channel=channel, sender=sender, text=text, subject=subject, **kwargs)).message.ticket
    run_pass()
    return Ticket.objects.get(pk=ticket.pk)


def notes(ticket):
    return list(Message.objects.filter(ticket=ticket, direction="note").order_by("pk").values_list("text", flat=True))


HIGH = {"action": "set_priority", "value": 2}


@pytest.mark.parametrize(("condition", "hit", "miss"), [
    ({"field": "channel", "op": "is", "value": "sms"}, {"channel": "sms"}, {"channel": "email"}),
    ({"field": "channel", "op": "is_not", "value": "sms"}, {"channel": "email"}, {"channel": "sms"}),
    ({"field": "inbox", "op": "is", "value": "email:sales@x.test"}, {"recipient": "sales@x.test"}, {}),
    ({"field": "inbox", "op": "is_not", "value": "email:sales@x.test"}, {}, {"recipient": "sales@x.test"}),
    ({"field": "subject", "op": "contains", "value": "REFUND"}, {"subject": "Refund please"}, {"subject": "Hi"}),
    ({"field": "subject", "op": "not_contains", "value": "refund"}, {"subject": "Hi"}, {"subject": "refund"}),
    ({"field": "body", "op": "contains", "value": "cancel"}, {"text": "Please CANCEL it"}, {"text": "thanks"}),
    ({"field": "body", "op": "not_contains", "value": "cancel"}, {"text": "thanks"}, {"text": "cancel"}),
])
def test_each_message_condition_matches_and_does_not(condition, hit, miss):
    rule([HIGH], [condition])
    assert arrive(**hit).priority == 2
    assert arrive(**miss).priority == 1


def test_organisation_tag_priority_and_status_conditions():
    from tickets.models import Customer

    vip = arrive(sender="boss@acme.test")
    Customer.objects.filter(pk=vip.customer_id).update(organisation="ACME Corp")
    services.set_tags(vip, ["vip"])
    other = arrive()
    facts = lambda t: rules.Facts(Ticket.objects.select_related("customer").get(pk=t.pk))  # noqa: E731
    check = lambda c, t: rules.holds(rules.validate("created", [c], [HIGH])[0][0], facts(t))  # noqa: E731
    assert check({"field": "organisation", "op": "is", "value": "acme corp"}, vip)
    assert check({"field": "organisation", "op": "contains", "value": "ACME"}, vip)
    assert not check({"field": "organisation", "op": "contains", "value": "ACME"}, other)
    assert check({"field": "tag", "op": "has", "value": "VIP"}, vip) and not check({"field": "tag", "op": "has", "value": "vip"}, other)
    assert check({"field": "tag", "op": "has_not", "value": "vip"}, other)
    services.set_priority(vip, 3)
    assert check({"field": "priority", "op": "at_least", "value": "2"}, vip)
    assert not check({"field": "priority", "op": "at_least", "value": "2"}, other)
    assert check({"field": "priority", "op": "is", "value": 1}, other)
    assert check({"field": "priority", "op": "is_not", "value": 1}, vip)
    assert check({"field": "status", "op": "is", "value": "new"}, other)
    assert check({"field": "status", "op": "is_not", "value": "solved"}, other)


def test_a_rule_action_is_an_event_and_a_timeline_note_naming_the_rule():
    rule([HIGH, {"action": "add_tags", "value": "vip, billing"}], name="VIP customers")
    ticket = arrive()
    assert ticket.priority == 2
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "vip"]
    event = Event.objects.filter(ticket=ticket, kind="ticket.updated", data__change="priority").get()
    assert event.data["actor"] == "Rule 'VIP customers'"
    assert notes(ticket) == ["Rule 'VIP customers' set priority to High; added tags vip, billing."]


def test_team_assign_hand_back_status_and_remove_tag_actions(django_user_model):
    ada = django_user_model.objects.create_user("ada")
    team = Team.objects.create(name="Billing")
    rule([{"action": "set_team", "value": team.pk}, {"action": "assign", "value": ada.pk},
          {"action": "set_status", "value": "pending"}])
    ticket = arrive()
    assert (ticket.team, ticket.assignee, ticket.status) == (team, ada, "pending")
    rule([{"action": "auto_assign"}, {"action": "remove_tags", "value": ["spam"]}],
         [{"field": "body", "op": "contains", "value": "again"}], trigger="customer_replied")
    services.set_tags(ticket, ["spam", "keep"])
    services.ingest(inbound(sender=ticket.customer.identities.get().address, text="again"))
    run_pass()
    ticket.refresh_from_db()
    assert ticket.assignee is None and list(ticket.tags.values_list("name", flat=True)) == ["keep"]


def test_reply_with_a_canned_response_note_and_notify_actions(django_user_model):
    from tickets.management.commands.seed_demo import ensure_agents_group

    ada = django_user_model.objects.create_user("ada")
    ada.groups.add(ensure_agents_group())  # only an agent who can open the ticket is notified (tickets.policy)
    canned = CannedResponse.objects.create(title="Thanks", shortcut="thanks", body="Hi {customer_first_name}, got it.")
    rule([{"action": "reply", "value": canned.pk}, {"action": "note", "value": "Check the order"},
          {"action": "notify", "value": ada.pk}])
    ticket = arrive(channel="fake", sender="fan-1", sender_name="Jane Doe")
    reply = Message.objects.get(ticket=ticket, direction="outbound")
    assert reply.text == "Hi Jane, got it." and reply.status == "queued"
    assert "Check the order" in notes(ticket)
    assert Mention.objects.filter(user=ada, message__ticket=ticket).exists()
    assert notes(ticket)[-1] == ("Rule 'R' replied with 'Thanks'; added a note; notified ada.")
    assert testing.outbox == []  # delivery happens in the worker after commit


def test_webhook_action_posts_the_ticket_signed_to_a_real_receiver(settings, run_tasks):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.HELPDESK_WEBHOOKS_ALLOW_PRIVATE = True
    try:
        rule([{"action": "webhook", "value": f"http://127.0.0.1:{server.server_port}/hook"}])
        ticket = arrive()
        run_tasks()
    finally:
        server.shutdown()
    headers, body = received[0]
    assert json.loads(body)["ticket"]["id"] == ticket.pk
    assert headers["X-Helpdesk-Event"] == "routing.rule" and headers["X-Helpdesk-Signature"]


def test_status_changed_and_stop_processing():
    first = rule([{"action": "note", "value": "solved!"}], [{"field": "status", "op": "is", "value": "solved"}],
                 trigger="status_changed", stop=True)
    rule([{"action": "note", "value": "never"}], trigger="status_changed")
    ticket = arrive()
    services.set_status(ticket, "solved")
    run_pass()
    assert "solved!" in notes(ticket) and "never" not in notes(ticket)
    assert first.pk


def test_a_rule_does_not_refire_on_its_own_change_and_chains_stop_at_the_depth_limit():
    # Two rules that undo each other: a loop without protection.
    rule([{"action": "set_status", "value": "solved"}], [{"field": "status", "op": "is", "value": "open"}],
         trigger="status_changed", name="Close")
    rule([{"action": "set_status", "value": "open"}], [{"field": "status", "op": "is", "value": "solved"}],
         trigger="status_changed", name="Reopen")
    ticket = arrive()
    services.set_status(ticket, "open")
    run_pass()
    fired = [n for n in notes(ticket) if n.startswith("Rule")]
    from routing.engine import MAX_DEPTH

    # Rules run in order on the ticket as it is now, so both may act on one change; each
    # rule-caused change is one level deeper, and the chain stops at the limit.
    assert 2 <= len(fired) <= 2 * (MAX_DEPTH + 1)
    run_pass()
    assert len([n for n in notes(ticket) if n.startswith("Rule")]) == len(fired)  # settled


def test_customer_replied_fires_on_a_reply_not_on_the_first_message():
    rule([{"action": "note", "value": "replied"}], trigger="customer_replied")
    ticket = arrive(sender="x@example.com")
    assert "replied" not in notes(ticket)
    services.ingest(inbound(sender="x@example.com", text="more"))
    run_pass()
    assert notes(ticket).count("replied") == 1


def test_a_failing_rule_is_logged_and_skipped_and_the_message_is_kept(caplog):
    team = Team.objects.create(name="Gone")
    broken = rule([{"action": "set_team", "value": team.pk}, HIGH], name="Broken")
    rule([{"action": "note", "value": "still here"}], name="Fine")
    team.delete()  # the rule now names a team that no longer exists
    ticket = arrive(text="keep me")
    assert Message.objects.filter(ticket=ticket, text="keep me").exists()
    assert ticket.priority == 1  # nothing half-done: the rule's earlier actions rolled back with it
    assert "still here" in notes(ticket)
    assert f"rule {broken.pk} (Broken) failed on ticket {ticket.pk}" in caplog.text


def test_validation_names_each_mistake():
    with pytest.raises(ValidationError, match="unknown field 'colour'"):
        rules.validate("created", [{"field": "colour", "op": "is", "value": "red"}], [HIGH])
    with pytest.raises(ValidationError, match="subject cannot use 'is'"):
        rules.validate("created", [{"field": "subject", "op": "is", "value": "x"}], [HIGH])
    with pytest.raises(ValidationError, match="at least one action"):
        rules.validate("created", [], [])
    with pytest.raises(ValidationError, match="Set team.*choose an existing one"):
        rules.validate("created", [], [{"action": "set_team", "value": 999}])
    with pytest.raises(ValidationError, match="enter an http"):
        rules.validate("created", [], [{"action": "webhook", "value": "ftp://x"}])
    with pytest.raises(ValidationError, match="Unknown trigger"):
        rules.validate("sometimes", [], [HIGH])


def test_dry_run_lists_recent_tickets_the_rule_would_match_and_changes_nothing():
    hit = arrive(subject="Refund now")
    arrive(subject="Hello")
    draft = Rule(name="Draft", trigger="created", conditions=[{"field": "subject", "op": "contains", "value": "refund"}],
                 actions=[HIGH])
    assert [t.pk for t in dry_run(draft)] == [hit.pk]
    assert Ticket.objects.get(pk=hit.pk).priority == 1 and not Rule.objects.exists()
