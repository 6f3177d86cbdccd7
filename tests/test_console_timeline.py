"""The ticket timeline tells what happened: one activity line per change (who, what, when),
server-rendered on load and fetched, rendered by the same code, by a live console; one header
per ticket of the customer; names a person can read."""

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import inbound
from tickets import events, services
from tickets.console import activity, queries, rendering
from tickets.models import Event, Message, Team, Ticket
from tickets.people import customer_name, format_phone, visitor_number

pytestmark = pytest.mark.django_db


class Rule:
    """What routing passes as the actor of a rule's change: a label, no user."""

    pk = None

    def __init__(self, label):
        self.label = label

    def get_full_name(self):
        return self.label


def ticket_of(result):
    return Ticket.objects.get(pk=result.message.ticket_id)


def lines(ticket, agents=(), teams=()):
    """The activity sentences of the ticket's timeline, oldest first."""
    names = activity.Names.of(list(agents), list(teams))
    found = queries.activity(ticket.customer_id, [ticket.pk])
    return [activity.describe(line.kind, line.data, names, ticket_id=line.ticket_id) for line in found]


@pytest.fixture
def ticket():
    return ticket_of(services.ingest(inbound("ada@example.com", "hello", sender_name="Ada")))


def test_a_status_change_says_who_and_from_what_to_what(ticket, agent):
    services.set_status(ticket, "pending", actor=agent)
    services.set_status(ticket, "solved", actor=agent)
    assert lines(ticket) == ["Agnes changed the status from New to Pending",
                             "Agnes changed the status from Pending to Solved"]


def test_a_priority_change(ticket, agent):
    services.set_priority(ticket, Ticket.Priority.URGENT, actor=agent)
    assert lines(ticket) == ["Agnes changed the priority from Normal to Urgent"]


def test_assignments_name_the_agent_and_the_team(ticket, agent, bob):
    team = Team.objects.create(name="Billing")
    services.assign(ticket, assignee=bob, actor=agent)
    services.assign(ticket, assignee=bob, team=team, actor=agent)
    services.assign(ticket, assignee=None, actor=agent)
    assert lines(ticket, [agent, bob], [team]) == [
        "Agnes assigned the ticket to Bob",
        "Agnes moved it to the Billing team",
        "Agnes unassigned the ticket",
    ]


def test_tags_added_and_removed(ticket, agent):
    services.set_tags(ticket, ["billing", "vip"], actor=agent)
    services.set_tags(ticket, ["vip", "urgent"], actor=agent)
    assert lines(ticket) == ["Agnes added the tags billing, vip",
                             "Agnes added the tags urgent and removed the tags billing"]


def test_a_rule_is_named_as_the_actor(ticket):
    services.set_priority(ticket, Ticket.Priority.HIGH, actor=Rule("Rule 'VIP'"))
    assert lines(ticket) == ["Rule 'VIP' changed the priority from Normal to High"]


def test_a_moved_message_makes_one_line_on_the_ticket_it_went_to(agent):
    first = services.ingest(inbound("ada@example.com", "one"))
    source = ticket_of(first)
    services.set_status(source, "solved", actor=agent)
    services.set_status(source, "closed", actor=agent)
    target = ticket_of(services.ingest(inbound("ada@example.com", "two")))
    services.move_message(Message.objects.get(pk=first.message.pk), target, actor=agent)
    assert lines(target) == [f"Agnes moved a message here from #{source.pk}"]
    # The source ticket's copy of the event gives no second line.
    both = queries.activity(source.customer_id, [source.pk, target.pk])
    names = activity.Names({}, {})
    texts = [activity.describe(x.kind, x.data, names, ticket_id=x.ticket_id) for x in both]
    assert texts.count(f"Agnes moved a message here from #{source.pk}") == 1


def test_merges_and_their_undo(agent):
    target = ticket_of(services.ingest(inbound("ada@example.com", "one", sender_name="Ada")))
    other = services.ingest(inbound("+14155550101", "two", channel="sms"))
    merge = services.merge_customers(other.message.customer, target.customer, actor=agent)
    services.undo_merge(merge, actor=agent)
    source = other.message.customer_id
    assert lines(target) == [f"Agnes merged Customer {source} into this customer",
                             f"Agnes undid the merge of Customer {source}"]


def test_a_delivery_failure_says_why(ticket, agent):
    reply = services.reply(ticket, author=agent, text="hi")
    services.mark_sent(reply.pk, "prov-1")
    services.mark_failed(reply.pk, "30003", "Unreachable destination handset")
    assert lines(ticket) == ["A reply could not be delivered: Unreachable destination handset"]


@pytest.mark.parametrize(("kind", "text"), [
    ("sla.warning", "SLA warning: the first reply target is close to its deadline"),
    ("sla.breached", "SLA breached: the first reply target was missed"),
])
def test_service_level_warnings_and_breaches(ticket, kind, text):
    with transaction.atomic():
        events.record(kind, ticket=ticket, data={"ticket": ticket.pk, "target": "first_reply",
                                                 "due": timezone.now().isoformat()})
    assert lines(ticket) == [text]


def test_changes_nobody_reads_make_no_line(ticket, agent):
    services.reply(ticket, author=agent, text="hi")  # moves the waiting clock: a ticket.updated
    ticket.refresh_from_db()
    services.set_status(ticket, ticket.status, actor=agent)  # no change, no event
    assert lines(ticket) == []


def test_a_note_nobody_typed_is_a_compact_line_and_an_automatic_message_is_marked(ticket, agent):
    services.automated_note(ticket, reason="survey", author_name="Satisfaction survey",
                            text="Satisfaction survey not sent: turned off.")
    services.note(ticket, author=agent, text="a person's note")
    page = rendered_timeline(ticket)
    assert ('<li class="activity system-note"' in page
            and "<strong>Satisfaction survey</strong> Satisfaction survey not sent: turned off." in page)
    assert '<li class="msg note"' in page and "a person&#x27;s note" in page


def rendered_timeline(ticket, user=None):
    blocks, _hidden, _last = queries.history(ticket, user=user)
    rendering.render_blocks(blocks, names=activity.Names({}, {}), console_base="/console/",
                            attachment_base="/attachments/", csrf_token="t")
    return "".join(b.html for b in blocks)


def test_the_ticket_page_shows_the_lines_in_time_order_with_the_messages(console, ticket, agent):
    services.set_status(ticket, "open", actor=agent)
    services.reply(ticket, author=agent, text="on it")
    services.set_status(ticket, "solved", actor=agent)
    body = console.get(f"/console/tickets/{ticket.pk}/").content.decode()
    order = [body.index(s) for s in ("hello", "Agnes changed the status from New to Open", "on it",
                                     "Agnes changed the status from Open to Solved")]
    assert order == sorted(order)
    assert body.count('class="activity ticket-updated"') == 2


def test_customer_text_in_a_line_is_escaped(console, ticket):
    services.set_tags(ticket, ["x"], actor=Rule("<script>alert(1)</script>"))
    body = console.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_fragment_a_live_console_fetches_is_what_the_page_renders(console, ticket, agent):
    services.set_status(ticket, "open", actor=agent)
    reply = services.reply(ticket, author=agent, text="on it")
    page = console.get(f"/console/tickets/{ticket.pk}/").content.decode()
    seq = Event.objects.filter(kind="ticket.updated", ticket=ticket, data__change="status").get().seq
    json = console.get(f"/console/tickets/{ticket.pk}/timeline/", {"m": f"{reply.pk}", "a": f"{seq},999999"}).json()
    assert [i["key"] for i in json["items"]] == [f"m{reply.pk}", f"a{seq}"]
    for item in json["items"]:
        assert item["html"] in page  # one renderer: the page and the live console show the same markup
    # The head names the ticket; its link sits beside the summary (no control inside a control).
    head = json["heads"][str(ticket.pk)]
    assert f'<span class="block-number">#{ticket.pk}</span>' in head and "<a " not in head


def test_the_fragment_leaves_out_other_customers_items(console, ticket, agent):
    stranger = ticket_of(services.ingest(inbound("eve@example.com", "secret")))
    services.set_status(stranger, "open", actor=agent)
    theirs = Message.objects.filter(ticket=stranger).get()
    seq = Event.objects.filter(ticket=stranger, kind="ticket.updated").latest("seq").seq
    json = console.get(f"/console/tickets/{ticket.pk}/timeline/", {"m": str(theirs.pk), "a": str(seq)}).json()
    assert json["items"] == [] and json["heads"] == {}


def test_the_fragment_costs_a_constant_number_of_queries(console, ticket, agent, django_assert_num_queries):
    def ask(n):
        replies = [services.reply(ticket, author=agent, text=f"r{i}") for i in range(n)]
        for i in range(n):
            services.set_priority(ticket, i % 4, actor=agent)
        seqs = list(Event.objects.filter(kind="ticket.updated", data__change="priority").values_list("seq", flat=True))
        params = {"m": ",".join(str(r.pk) for r in replies), "a": ",".join(map(str, seqs))}
        with CaptureQueriesContext(connection) as captured:
            assert len(console.get(f"/console/tickets/{ticket.pk}/timeline/", params).json()["items"]) >= n
        return len(captured)

    assert ask(2) == ask(30)


def test_the_ticket_page_query_count_stays_constant_with_activity(console, ticket, agent, bob):
    team = Team.objects.create(name="Billing")
    services.set_status(ticket, "open", actor=agent)
    with CaptureQueriesContext(connection) as captured:
        console.get(f"/console/tickets/{ticket.pk}/")
    few = len(captured)
    for n in range(20):
        services.assign(ticket, assignee=bob if n % 2 else agent, team=team if n % 3 else None, actor=agent)
        services.set_tags(ticket, [f"t{n}"], actor=agent)
        other = ticket_of(services.ingest(inbound("+14155550101", f"new {n}", channel="sms",
                                                  linked_identities=(("email", "ada@example.com"),))))
        services.set_status(other, "solved", actor=agent)
        services.set_status(other, "closed", actor=agent)
    with CaptureQueriesContext(connection) as captured:
        body = console.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert len(captured) == few
    assert body.count('class="block-head"') == 21  # the 20 SMS tickets of this customer, then this one


def test_each_ticket_header_appears_once_however_the_messages_interleave(console, agent):
    email = services.ingest(inbound("ada@example.com", "email 1", subject="Invoice"))
    sms = services.ingest(inbound("+14155550101", "sms 1", channel="sms",
                                  linked_identities=(("email", "ada@example.com"),)))
    services.ingest(inbound("ada@example.com", "email 2", hint={"ticket_id": email.message.ticket_id}))
    services.ingest(inbound("+14155550101", "sms 2", channel="sms"))
    ticket = ticket_of(email)
    body = console.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert len(re.findall(f'<details class="block other" data-ticket="{sms.message.ticket_id}"', body)) == 1
    assert body.count('class="block-head"') == 2
    from tickets.console.icons import channel_html

    assert channel_html("sms") + ' · <span class="block-status status-new">New</span>' in body


# ---- names ------------------------------------------------------------------------------------

def test_an_unknown_phone_sender_is_their_number_as_people_write_it(console):
    result = services.ingest(inbound("+14155550101", "hi", channel="sms"))
    assert format_phone("+14155550101") == "+1 415-555-0101"
    queue = console.get("/console/").content.decode()
    assert "+1 415-555-0101" in queue and f"Customer {result.message.customer_id}" not in queue
    page = console.get(f"/console/tickets/{result.message.ticket_id}/").content.decode()
    assert 'title="Customer profile">+1 415-555-0101</a>' in page


def test_an_anonymous_visitor_gets_a_stable_readable_name_never_the_token():
    token = "visitor:site:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    name = customer_name("", [{"channel": "chat", "address": token, "display_name": ""}], 8)
    assert name == f"Visitor {visitor_number(token)}" and 1000 <= visitor_number(token) <= 9999
    assert name == customer_name("", [{"channel": "chat", "address": token, "display_name": ""}], 8)
    assert "0f1e2d3c" not in name


def test_a_name_wins_then_a_given_name_then_email_then_phone():
    ids = [{"channel": "sms", "address": "+442071838750", "display_name": ""},
           {"channel": "email", "address": "ada@example.com", "display_name": ""}]
    assert customer_name("Ada", ids, 1) == "Ada"
    assert customer_name("", ids, 1) == "ada@example.com"
    assert customer_name("", ids[:1], 1) == "+44 20 7183 8750"
    assert customer_name("", [*ids, {"channel": "telegram", "address": "42", "display_name": "Ada L"}], 1) == "Ada L"
    assert customer_name("", [], 1) == "Customer 1"


def test_old_activity_beyond_the_shown_messages_is_left_out(ticket, agent):
    services.set_status(ticket, "open", actor=agent)
    Event.objects.filter(kind="ticket.updated").update(created_at=timezone.now() - timedelta(days=3))
    assert [x.kind for x in queries.activity(ticket.customer_id, [ticket.pk],
                                             since=timezone.now() - timedelta(days=1))] == []


def test_the_activity_query_keeps_exactly_what_its_orm_equivalent_keeps(ticket, agent, bob):
    """queries.lines_sql() is hand-written for speed: it must select what the ORM would."""
    from django.db.models import Q

    other = ticket_of(services.ingest(inbound("+14155550101", "sms", channel="sms")))
    services.set_status(ticket, "open", actor=agent)
    services.assign(ticket, assignee=bob, actor=agent)
    services.set_tags(ticket, ["a"], actor=agent)
    services.set_priority(other, 3, actor=agent)  # another customer's: not this timeline's
    reply = services.reply(ticket, author=agent, text="hi")
    services.mark_sent(reply.pk, "p-1")
    services.mark_failed(reply.pk, "1", "bounced")
    services.merge_customers(other.customer, ticket.customer, actor=agent)
    orm = (Event.objects.filter(Q(ticket_id__in=[ticket.pk]) | Q(ticket_id__isnull=True, customer_id=ticket.customer_id,
                                                                  kind__in=activity.CUSTOMER_KINDS))
           .filter(Q(kind="ticket.updated", data__change__in=list(activity.TICKET_CHANGES))
                   | Q(kind="message.status", data__status="failed")
                   | Q(kind__in=["message.moved", "customer.merged", "customer.unmerged", "sla.warning",
                                 "sla.breached"])))
    expected = sorted(orm.values_list("seq", flat=True))
    assert sorted(queries.activity_query(ticket.customer_id, [ticket.pk]).values_list("seq", flat=True)) == expected
    assert len(expected) == 5  # status, assignment, tags, the failure, the merge
