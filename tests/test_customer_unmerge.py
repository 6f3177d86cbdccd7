"""Undoing a merge gives each customer back their own history, including what arrived while
the two were merged (issue 12: "the customer's history stays the customer's"), per channel."""

import pytest

from tests.factories import inbound
from tickets import services
from tickets.channels import ThreadHints
from tickets.models import Customer, Event, Message, Ticket

pytestmark = pytest.mark.django_db

# channel -> (A's address, B's address), in the form the adapters hand to ingest().
ADDRESSES = {
    "email": ("ada@example.com", "ada.work@example.org"),
    "sms": ("+14155550101", "+14155550102"),
    "whatsapp": ("+14155550103", "+14155550104"),
    "messenger": ("psid-1001", "psid-1002"),
    "instagram": ("igsid-2001", "igsid-2002"),
    "telegram": ("3001", "3002"),
    "chat": ("visitor-a", "visitor-b"),
}
CHANNELS = sorted(ADDRESSES)


def write(channel, who, text, *, reply_to=None):
    """A message from A or B as that channel's adapter would hand it over: email threads by
    In-Reply-To and never joins an open ticket by itself; chat threads by its session."""
    address = ADDRESSES[channel][who]
    if channel == "email":
        hints = ThreadHints(reply_to_external_ids=(reply_to.external_id,) if reply_to else (), join_open_ticket=False)
    elif channel == "chat":
        hints = ThreadHints(session=address)
    else:
        hints = ThreadHints()
    return services.ingest(inbound(address, text, channel=channel, hints=hints)).message


def merged(agent, channel, *, b_first=False):
    if b_first:  # A's ticket is then the latest one on the channel
        b1, a1 = write(channel, 1, "B: first"), write(channel, 0, "A: first")
    else:
        a1, b1 = write(channel, 0, "A: first"), write(channel, 1, "B: first")
    merge = services.merge_customers(b1.customer, a1.customer, actor=agent)
    return a1, b1, merge


def customer_texts(customer_id):
    return sorted(Message.objects.filter(customer_id=customer_id).values_list("text", flat=True))


def assert_consistent():
    """Every message belongs to its ticket's customer (the history view reads Message.customer)."""
    assert not [m.pk for m in Message.objects.select_related("ticket") if m.customer_id != m.ticket.customer_id]


@pytest.mark.parametrize("channel", CHANNELS)
def test_undo_takes_back_what_b_wrote_on_its_own_ticket_while_merged(agent, channel):
    a1, b1, merge = merged(agent, channel)
    b2 = write(channel, 1, "B: while merged", reply_to=b1)
    assert b2.ticket_id == b1.ticket_id and b2.customer_id == a1.customer_id

    services.undo_merge(merge, actor=agent)

    b2.refresh_from_db()
    assert b2.ticket_id == b1.ticket_id and b2.ticket.customer_id == b1.customer_id
    assert customer_texts(b1.customer_id) == ["B: first", "B: while merged"]
    assert customer_texts(a1.customer_id) == ["A: first"]
    assert_consistent()


@pytest.mark.parametrize("channel", CHANNELS)
def test_undo_takes_back_a_ticket_b_opened_while_merged(agent, channel):
    a1, b1, merge = merged(agent, channel)
    services.set_status(b1.ticket, "closed", actor=agent)  # B's next message opens a new ticket
    b2 = write(channel, 1, "B: new matter", reply_to=b1)
    assert b2.ticket_id not in (a1.ticket_id, b1.ticket_id) and b2.ticket.customer_id == a1.customer_id
    services.reply(b2.ticket, author=agent, text="Agent: on it", client_id="r1")

    services.undo_merge(merge, actor=agent)

    ticket = Ticket.objects.get(pk=b2.ticket_id)
    assert ticket.customer_id == b1.customer_id
    assert customer_texts(b1.customer_id) == ["Agent: on it", "B: first", "B: new matter"]
    assert customer_texts(a1.customer_id) == ["A: first"]
    assert_consistent()


@pytest.mark.parametrize("channel", sorted(set(CHANNELS) - {"email", "chat"}))
def test_what_b_wrote_into_a_ticket_of_a_while_merged_is_split_back_to_b(agent, channel):
    # Messaging channels join the customer's latest open ticket on the channel: while merged,
    # that can be A's own conversation.
    a1, b1, merge = merged(agent, channel, b_first=True)
    b2 = write(channel, 1, "B: into A's conversation")
    a2 = write(channel, 0, "A: again")
    assert b2.ticket_id == a1.ticket_id == a2.ticket_id

    services.undo_merge(merge, actor=agent)

    b2.refresh_from_db()
    assert b2.ticket_id not in (a1.ticket_id, b1.ticket_id)
    assert b2.ticket.customer_id == b1.customer_id and b2.ticket.related_to_id == a1.ticket_id
    assert customer_texts(b1.customer_id) == ["B: first", "B: into A's conversation"]
    assert customer_texts(a1.customer_id) == ["A: again", "A: first"]
    assert Event.objects.filter(kind="message.moved", message=b2, ticket_id=a1.ticket_id).exists()
    assert_consistent()


@pytest.mark.parametrize("channel", sorted(set(CHANNELS) - {"email", "chat"}))
def test_what_a_wrote_into_b_s_ticket_while_merged_stays_with_a(agent, channel):
    a1, b1, merge = merged(agent, channel)  # B's ticket is A's latest on the channel now
    a2 = write(channel, 0, "A: into B's conversation")
    assert a2.ticket_id == b1.ticket_id

    services.undo_merge(merge, actor=agent)

    a2.refresh_from_db()
    assert a2.customer_id == a1.customer_id and a2.ticket.customer_id == a1.customer_id
    assert a2.ticket_id != b1.ticket_id
    assert customer_texts(b1.customer_id) == ["B: first"]
    assert_consistent()


def test_undo_is_recorded_once(agent):
    a1, b1, merge = merged(agent, "sms")
    services.undo_merge(merge, actor=agent)
    services.undo_merge(merge, actor=agent)
    assert Event.objects.filter(kind="customer.unmerged").count() == 1


def test_a_merge_cannot_be_undone_while_its_target_is_merged_on(agent, console):
    a1, b1, first = merged(agent, "sms")
    c = Customer.objects.create(name="C")
    services.merge_customers(a1.customer, c, actor=agent)
    with pytest.raises(ValueError, match="was merged into customer .* since: undo that merge first"):
        services.undo_merge(first, actor=agent)
    response = console.post(f"/console/merges/{first.pk}/undo/", {"ticket": b1.ticket_id},
                            HTTP_ACCEPT="application/json")
    assert response.status_code == 409 and "undo that merge first" in response.json()["error"]
    first.refresh_from_db()
    assert first.undone_at is None
    assert set(Message.objects.values_list("customer_id", flat=True)) == {c.pk}
