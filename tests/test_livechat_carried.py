"""A chat visitor's bells carry its own tickets' events (tickets.events.Carried, with each event's
customer's previous link: a public event or a customer-wide one): sent on from memory when
nothing of the visitor's can be missing, read from the log when something may be (a lost or late
bell, a ticket it does not know, a merge or its undo that may have moved one of its tickets), and
the watchman's rings carry them too."""

import pytest
from channels.db import database_sync_to_async

from tests.livechat_helpers import authed, events_of, frames_until, make_inbox, make_visitor
from tickets import events, services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
def inbox():
    return make_inbox()


def count_log_reads(monkeypatch):
    reads, real = [], events.events_since
    monkeypatch.setattr(events, "events_since", lambda last_seq, *a, **k: reads.append(last_seq) or real(last_seq, *a, **k))
    return reads


async def chatting(inbox, tokens=None):
    """A visitor socket with one ticket, its first message echoed; (socket, ticket, last seq)."""
    _, token = await db(make_visitor)(inbox)
    if tokens is not None:
        tokens.append(token)
    ws, _ = await authed(token)
    await ws.send_json_to({"type": "send", "client_id": "c-1", "text": "Hello"})
    ack = (await frames_until(ws, "ack"))[-1]
    seq = (await events_of(ws, 1))[-1]["seq"]
    return ws, await db(Ticket.objects.get)(pk=ack["ticket"]), seq


async def test_an_agent_reply_reaches_the_visitor_from_memory(inbox, agent, monkeypatch):
    ws, ticket, seq = await chatting(inbox)
    reads = count_log_reads(monkeypatch)
    await db(services.reply)(ticket, author=agent, text="Hi! How can I help?", client_id="r-1")
    got = (await events_of(ws, 1))[0]
    assert got["kind"] == "message.created" and got["seq"] > seq
    assert got["data"]["text"] == "Hi! How can I help?" and got["data"]["author"] == "Agnes"
    assert "customer" not in got and "error" not in got["data"]  # the visitor's view, as from the log
    # An internal note moves the cursor and shows nothing.
    await db(services.note)(ticket, author=agent, text="VIP (internal)")
    frame = await ws.receive_json_from(timeout=5)
    assert frame["type"] == "cursor" and frame["seq"] > got["seq"]
    assert reads == []  # no log read for either
    await ws.disconnect()


def statements_while_handling_bells(monkeypatch):
    """The SQL statements run on behalf of visitor sockets handling bells, on any thread (a
    context variable set around events_ring follows its hops to the thread pool; the sender's
    own statements, such as the bell's read-back of its events, are not counted)."""
    import contextvars

    from django.db.backends import utils

    from livechat.consumer import VisitorConsumer

    handling = contextvars.ContextVar("handling_a_bell", default=False)
    statements = []
    real_execute, real_ring = utils.CursorWrapper._execute_with_wrappers, VisitorConsumer.events_ring

    def execute(self, sql, *args, **kwargs):
        if handling.get():
            statements.append(sql)
        return real_execute(self, sql, *args, **kwargs)

    async def events_ring(self, message):
        token = handling.set(True)
        try:
            await real_ring(self, message)
        finally:
            handling.reset(token)

    monkeypatch.setattr(utils.CursorWrapper, "_execute_with_wrappers", execute)
    monkeypatch.setattr(VisitorConsumer, "events_ring", events_ring)
    return statements


async def test_the_visitors_own_bells_in_order_cost_the_socket_no_query(inbox, agent, settings, monkeypatch):
    """The common case, a bell of the visitor's own ticket that follows its cursor, is passed on
    from memory without a single statement (what the fan-out's figures rest on); a lost bell
    then does read (the count sees the socket's statements)."""
    settings.HELPDESK_EVENT_POLL_SECONDS = 3600  # no watchman ring in between
    ws, ticket, seq = await chatting(inbox)
    statements = statements_while_handling_bells(monkeypatch)
    await db(services.reply)(ticket, author=agent, text="Hi!", client_id="r-1")
    await db(services.note)(ticket, author=agent, text="VIP (internal)")
    frames = await frames_up_to(ws, await db(events.current_seq)())
    await ws.send_json_to({"type": "ping"})
    await frames_until(ws, "pong")  # the last bell's handler is done (a socket takes its frames in turn)
    assert shown(frames) == ["Hi!"] and frames[-1]["type"] == "cursor"
    assert statements == []

    real, dropped = events.publish, []
    monkeypatch.setattr(events, "publish", lambda *args, **kw: dropped.append(args) if not dropped else real(*args, **kw))
    await db(services.reply)(ticket, author=agent, text="lost bell", client_id="r-2")
    await db(services.reply)(ticket, author=agent, text="next bell", client_id="r-3")
    assert [e["data"]["text"] for e in await events_of(ws, 2)] == ["lost bell", "next bell"]
    assert statements  # the gap: read from the log
    await ws.disconnect()


async def test_a_lost_bell_is_seen_by_the_next_one_and_read_from_the_log(inbox, agent, monkeypatch):
    ws, ticket, seq = await chatting(inbox)
    real, dropped = events.publish, []
    monkeypatch.setattr(events, "publish", lambda *args, **kw: dropped.append(args) if not dropped else real(*args, **kw))
    reads = count_log_reads(monkeypatch)
    await db(services.reply)(ticket, author=agent, text="lost bell", client_id="r-1")
    await db(services.reply)(ticket, author=agent, text="next bell", client_id="r-2")
    got = await events_of(ws, 2)
    assert [e["data"]["text"] for e in got] == ["lost bell", "next bell"] and len(dropped) == 1
    assert reads == [seq]  # the next bell's `prev` named the lost event: the gap came from the log
    await ws.disconnect()


async def test_a_new_ticket_of_the_customer_is_read_from_the_log(inbox, agent, monkeypatch):
    """An event of a ticket the socket does not know yet (here: one the visitor's customer
    gets elsewhere) is never judged in memory: the log decides (and it is not the visitor's)."""
    ws, ticket, seq = await chatting(inbox)
    reads = count_log_reads(monkeypatch)
    other = await db(Ticket.objects.create)(customer_id=ticket.customer_id, subject="by phone", channel="email")
    await db(services.reply)(other, author=agent, text="not for the chat", client_id="r-9")
    await db(services.reply)(ticket, author=agent, text="for the chat", client_id="r-1")
    got = await events_of(ws, 1)
    assert [e["data"]["text"] for e in got] == ["for the chat"]
    assert reads and reads[0] == seq
    await ws.disconnect()


async def test_a_dropped_visitor_bell_is_caught_by_the_watchman_with_the_events(inbox, agent, settings, monkeypatch):
    settings.HELPDESK_EVENT_POLL_SECONDS = 0.2
    ws, ticket, seq = await chatting(inbox)
    monkeypatch.setattr(events, "publish", lambda *args, **kw: None)  # every after-commit ring is lost
    reads = count_log_reads(monkeypatch)
    await db(services.reply)(ticket, author=agent, text="only the watchman rings", client_id="r-1")
    got = await events_of(ws, 1)
    assert [e["data"]["text"] for e in got] == ["only the watchman rings"] and got[0]["seq"] > seq
    assert reads == []  # the watchman's ring carried the event (and its `prev`)
    await ws.disconnect()


async def test_erasing_the_visitor_closes_its_open_sockets(inbox):
    """Its tickets are known to the socket from memory: erasure must not leave it listening."""
    from livechat.privacy import ChatVisitors
    from tickets.models import Customer

    ws, ticket, _ = await chatting(inbox)
    customer = await db(Customer.objects.get)(pk=ticket.customer_id)
    await db(ChatVisitors().erase)(customer)
    closed = await ws.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4401}


async def test_a_visitor_whose_ticket_belongs_to_another_customer_reads_the_log(inbox, agent, monkeypatch):
    """The customer's chain of events cannot vouch for a ticket of another customer."""
    from tickets.models import Customer, Identity

    ws, ticket, _ = await chatting(inbox, keep_token := [])
    await ws.disconnect()
    other = await db(Customer.objects.create)(name="Someone else")
    await db(Identity.objects.create)(customer=other, channel="chat", address="visitor:shop:someone-else")
    await db(Ticket.objects.filter(pk=ticket.pk).update)(customer=other)
    ws, _ = await authed(keep_token[0])
    reads = count_log_reads(monkeypatch)
    await db(services.reply)(ticket, author=agent, text="still yours", client_id="r-1")
    assert [e["data"]["text"] for e in await events_of(ws, 1)] == ["still yours"]
    assert len(reads) == 1  # read from the log, not passed on from memory
    await ws.disconnect()


def sender_waits_for_the_visitor_sockets(monkeypatch):
    """Make the sender's after-commit ring return only once a visitor socket has handled that
    bell: whatever the sender commits next cannot overtake the bell (deterministic ordering of
    the race between a bell and a later commit, no sleeps). Only a socket that is not busy
    sending can handle it meanwhile (a consumer handles one message at a time)."""
    import threading

    from livechat.consumer import VisitorConsumer

    handled, changed = [], threading.Condition()
    real_ring, real_publish = VisitorConsumer.events_ring, events.publish

    async def events_ring(self, message):
        await real_ring(self, message)
        with changed:
            handled.append(message["seq"])
            changed.notify_all()

    def publish(groups, seq, carry=None):
        real_publish(groups, seq, carry=carry)
        with changed:  # the timeout only keeps a broken test from hanging: held says whether it held
            held.append(changed.wait_for(lambda: any(s >= seq for s in handled), timeout=10))

    held = []
    monkeypatch.setattr(VisitorConsumer, "events_ring", events_ring)
    monkeypatch.setattr(events, "publish", publish)
    return held


async def test_a_new_ticket_from_another_tab_reaches_this_tab_with_its_first_message(inbox, agent, monkeypatch):
    """Two tabs of one visitor; the chat's ticket is closed, so tab A's next message starts a new
    ticket. Tab B hears the customer's bell of a ticket it does not know and reads the log: the
    chat address's conversation row must have committed with the ticket's events, or the log
    read finds nothing of it, moves B's cursor past the first message and B never shows it."""
    from tickets.models import Event

    tokens = []
    tab_a, ticket, _ = await chatting(inbox, tokens)
    tab_b, _ = await authed(tokens[0])
    await db(Ticket.objects.filter(pk=ticket.pk).update)(status=Ticket.Status.CLOSED)
    held = sender_waits_for_the_visitor_sockets(monkeypatch)

    await tab_a.send_json_to({"type": "send", "client_id": "c-2", "text": "One more question"})
    ack = (await frames_until(tab_a, "ack"))[-1]
    assert ack["ticket"] != ticket.pk  # a new ticket
    assert held and all(held)  # tab B handled the new ticket's bell before tab A's send went on
    seq = await db(lambda: Event.objects.get(kind="message.created", message_id=ack["id"]).seq)()
    frames = await frames_up_to(tab_b, seq)
    assert shown(frames) == ["One more question"], frames

    # Tab B now follows the new ticket: the agent's answer reaches it, once.
    new_ticket = await db(Ticket.objects.get)(pk=ack["ticket"])
    await db(services.reply)(new_ticket, author=agent, text="Sure, go ahead", client_id="r-2")
    assert [e["data"]["text"] for e in await events_of(tab_b, 1)] == ["Sure, go ahead"]
    assert [e["data"]["text"] for e in await events_of(tab_a, 2)] == ["One more question", "Sure, go ahead"]
    await tab_a.disconnect()
    await tab_b.disconnect()


def test_a_visitor_message_and_its_conversation_row_commit_together(inbox, monkeypatch):
    """The ticket's events ring after the commit that also records the chat address's
    conversation row: a failure between them keeps neither, and rings nothing."""
    from livechat import conversation, visitors
    from livechat.models import Conversation
    from tickets.models import Event, Message

    session, _ = make_visitor(inbox)
    rung = []
    monkeypatch.setattr(events, "publish", lambda *args, **kw: rung.append(args))

    def fail(address, ticket_id):
        raise RuntimeError("the conversation row could not be written")

    monkeypatch.setattr(visitors, "remember_ticket", fail)
    with pytest.raises(RuntimeError, match="conversation row could not be written"):
        conversation.send(session, "c-1", "Hello")
    assert (Message.objects.count(), Ticket.objects.count(), Event.objects.count(), rung) == (0, 0, 0, [])

    monkeypatch.undo()
    rung.clear()
    monkeypatch.setattr(events, "publish", lambda *args, **kw: rung.append(visitors.ticket_ids(session.address)))
    message = conversation.send(session, "c-1", "Hello")  # the visitor's retry
    assert rung and all(ids == [message.ticket_id] for ids in rung)  # the row was there at every ring
    assert Conversation.objects.filter(address=session.address, ticket_id=message.ticket_id).count() == 1


def hold_bells(monkeypatch):
    """Rings after commit are kept back while `held["on"]`, to be rung later with release():
    a bell overtaken by a later one, in a fixed order (no sleeps)."""
    real, held = events.publish, {"on": False, "rings": []}

    def publish(groups, seq, carry=None):
        if held["on"]:
            held["rings"].append((groups, seq, carry))
        else:
            real(groups, seq, carry=carry)

    def release():
        rings, held["rings"] = held["rings"], []
        for groups, seq, carry in rings:
            real(groups, seq, carry=carry)
        return [seq for _groups, seq, _carry in rings]

    monkeypatch.setattr(events, "publish", publish)
    return held, release


async def frames_up_to(ws, seq):
    """The frames a socket sends until one (an event or a cursor) reaches `seq`."""
    frames = []
    while not frames or frames[-1].get("seq", 0) < seq:
        frames.append(await ws.receive_json_from(timeout=5))
    return frames


def shown(frames):
    return [f["data"]["text"] for f in frames if f["type"] == "event" and f["kind"] == "message.created"]


async def merged_visitor(inbox, agent):
    """A visitor whose chat address has two tickets of customer A: `mine`, opened as customer B
    before B was merged into A, and `theirs`, one of A's. Undoing the merge (the `undo` returned)
    gives `mine` back to B and leaves `theirs` with A. Returns (token, mine, theirs, undo)."""
    from livechat import visitors
    from tickets.models import Customer, Identity
    from tickets.services.customers import merge_customers, undo_merge

    tokens = []
    ws, mine, _ = await chatting(inbox, tokens)
    await ws.disconnect()
    a = await db(Customer.objects.create)(name="A")
    await db(Identity.objects.create)(customer=a, channel="chat", address="visitor:shop:a-elsewhere")
    merge = await db(merge_customers)(await db(Customer.objects.get)(pk=mine.customer_id), a, actor=agent)
    address = await db(lambda: visitors.session_for_token(tokens[0], "shop").address)()
    theirs = await db(Ticket.objects.create)(customer=a, subject="A's chat", channel="chat")
    await db(visitors.remember_ticket)(address, theirs.pk)

    def undo():
        undo_merge(merge, actor=agent)
        assert Ticket.objects.get(pk=mine.pk).customer_id != a.pk  # back with B
        assert Ticket.objects.get(pk=theirs.pk).customer_id == a.pk

    return tokens[0], mine, theirs, undo


async def overtaken(ws, agent, held, release, late_ticket, ticket, texts):
    """An agent's reply on `late_ticket` whose bell (with any held already) is overtaken by the
    bell of a reply on `ticket`; then one more reply on `ticket`. The frames the socket sends."""
    held["on"] = True
    await db(services.reply)(await db(Ticket.objects.get)(pk=late_ticket.pk), author=agent, text=texts[0],
                             client_id=texts[0])
    held["on"] = False
    await db(services.reply)(ticket, author=agent, text=texts[1], client_id=texts[1])
    frames = await frames_up_to(ws, await db(events.current_seq)())  # the overtaking bell, handled
    assert release()  # the held bells ring late
    await db(services.reply)(ticket, author=agent, text=texts[2], client_id=texts[2])
    return frames + await frames_up_to(ws, await db(events.current_seq)())


async def test_a_ticket_moved_to_another_customer_is_not_skipped_when_its_bells_are_overtaken(
        inbox, agent, settings, monkeypatch):
    """The undo's bell and the bell of an agent's reply on `mine` (now B's: outside A's chain of
    events) are both overtaken by the bell of a reply on `theirs`. That bell must not vouch for
    the visitor's tickets on A's chain: the undo is a link of the chain (tickets.sql's `prev`),
    so it shows a gap and the log is read. And the socket must know the move from then on, though
    the log read showed it no event of B: the next time the same happens, it is not skipped either."""
    settings.HELPDESK_EVENT_POLL_SECONDS = 3600  # no watchman ring while bells are held back
    token, mine, theirs, undo = await merged_visitor(inbox, agent)
    ws, _ = await authed(token)  # `mine` and `theirs`, both A's: all its customer's
    await ws.send_json_to({"type": "ping"})
    await frames_until(ws, "pong")  # its resume is done (a socket takes its frames in turn)

    held, release = hold_bells(monkeypatch)
    held["on"] = True
    await db(undo)()
    frames = await overtaken(ws, agent, held, release, mine, theirs, ["on B's", "on A's", "one more"])
    assert shown(frames) == ["on B's", "on A's", "one more"], frames
    frames = await overtaken(ws, agent, held, release, mine, theirs, ["B again", "A again", "and again"])
    assert shown(frames) == ["B again", "A again", "and again"], frames
    await ws.disconnect()


async def test_a_ticket_moved_while_the_visitor_connects_is_not_skipped(inbox, agent, settings, monkeypatch):
    """The merge is undone after the socket read whose its tickets are and before the widget's
    history is read: the first resume then is not taken as fresh (the history's read of the
    tickets' customers differs), the log is read, and the socket knows the move."""
    from livechat import conversation

    settings.HELPDESK_EVENT_POLL_SECONDS = 3600
    token, mine, theirs, undo = await merged_visitor(inbox, agent)
    real = conversation.history_and_owners

    def history_and_owners(session):
        undo()
        monkeypatch.setattr(conversation, "history_and_owners", real)
        return real(session)

    monkeypatch.setattr(conversation, "history_and_owners", history_and_owners)
    ws, _ = await authed(token, history=True)
    await ws.send_json_to({"type": "ping"})
    await frames_until(ws, "pong")
    held, release = hold_bells(monkeypatch)
    frames = await overtaken(ws, agent, held, release, mine, theirs, ["on B's", "on A's", "one more"])
    assert shown(frames) == ["on B's", "on A's", "one more"], frames
    await ws.disconnect()
