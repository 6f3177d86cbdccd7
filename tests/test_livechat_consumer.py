"""The visitor socket, through the real consumer, channel layer, services and event log."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.test import override_settings

from livechat import presence
from livechat.models import Conversation, VisitorSession
from tests.livechat_helpers import authed, events_of, frames_until, make_inbox, make_visitor, socket
from tickets import services
from tickets.models import Event, Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
def inbox():
    return make_inbox()


async def send(communicator, client_id, text):
    await communicator.send_json_to({"type": "send", "client_id": client_id, "text": text})
    return await frames_until(communicator, "ack")


async def test_a_visitor_message_is_ingested_once_and_echoed(inbox):
    session, token = await db(make_visitor)(inbox)
    ws, ready = await authed(token)
    assert ready["online"] is False
    frames = await send(ws, "c-1", "Where is my parcel?")
    ack = frames[-1]
    message = await db(Message.objects.select_related("ticket", "identity").get)(pk=ack["id"])
    assert message.text == "Where is my parcel?" and message.channel == "chat" and message.adapter == "chat"
    assert message.identity.address == session.address == f"visitor:shop:{session.key}"
    assert message.external_id == f"chat:{session.key}:c-1"
    assert await db(Conversation.objects.filter(address=session.address, ticket=message.ticket).exists)()
    echoed = await events_of(ws, 1)
    assert echoed[0]["kind"] == "message.created" and echoed[0]["data"]["id"] == message.pk
    assert "customer" not in echoed[0] and "error" not in echoed[0]["data"]

    # The same client id again (a resend after a dropped ack) is the same message, no new event.
    before = await db(Event.objects.count)()
    again = await send(ws, "c-1", "Where is my parcel?")
    assert again[-1]["id"] == message.pk
    assert await db(Message.objects.count)() == 1
    assert await db(Event.objects.count)() == before
    await ws.disconnect()


async def test_agent_replies_reach_the_widget_but_internal_notes_never_do(inbox, agent):
    _, token = await db(make_visitor)(inbox)
    ws, _ = await authed(token)
    ack = (await send(ws, "c-1", "Hello"))[-1]
    await events_of(ws, 1)
    ticket = await db(Ticket.objects.get)(pk=ack["ticket"])
    await db(services.note)(ticket, author=agent, text="VIP, be nice (internal)")
    await db(services.reply)(ticket, author=agent, text="Hi! How can I help?", client_id="r-1")
    got = await events_of(ws, 1)
    assert got[0]["data"]["text"] == "Hi! How can I help?"
    assert got[0]["data"]["author"] == "Agnes" and got[0]["data"]["direction"] == "outbound"
    # Nothing else arrives: the note was never sent to the visitor.
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


async def test_reconnect_resumes_from_the_last_rendered_event_without_gap_or_duplicate(inbox, agent):
    _, token = await db(make_visitor)(inbox)
    ws, _ = await authed(token)
    ack = (await send(ws, "c-1", "Hello"))[-1]
    last = (await events_of(ws, 1))[-1]["seq"]
    await ws.disconnect()
    ticket = await db(Ticket.objects.get)(pk=ack["ticket"])
    for n in (1, 2):
        await db(services.reply)(ticket, author=agent, text=f"reply {n}", client_id=f"r-{n}")
    ws, _ = await authed(token, resume=False)
    await ws.send_json_to({"type": "resume", "last_seq": last})
    got = await events_of(ws, 2)
    assert [e["data"]["text"] for e in got] == ["reply 1", "reply 2"]
    frames = []
    while not await ws.receive_nothing(timeout=0.3):
        frames.append(await ws.receive_json_from())
    assert all(f["type"] != "event" for f in frames), frames
    await ws.disconnect()


async def test_history_on_first_connect_is_the_whole_public_conversation(inbox, agent):
    session, token = await db(make_visitor)(inbox)
    ws, _ = await authed(token)
    ack = (await send(ws, "c-1", "first"))[-1]
    ticket = await db(Ticket.objects.get)(pk=ack["ticket"])
    await db(services.reply)(ticket, author=agent, text="second", client_id="r-1")
    await db(services.note)(ticket, author=agent, text="secret note")
    await ws.disconnect()
    ws, ready = await authed(token, history=True)
    texts = [m["text"] for m in ready["history"]["messages"]]
    assert texts == ["first", "second"]
    assert ready["history"]["messages"][0]["client_id"] == "c-1"
    await ws.disconnect()


async def test_origins_outside_the_inbox_list_are_refused(inbox):
    _, connected, code = await socket(origin="https://evil.example.net")
    assert not connected and code == 4403
    _, connected, _ = await socket(origin=None)
    assert not connected
    _, connected, _ = await socket(inbox_key="nope")
    assert not connected
    # The helpdesk's own pages (the demo) are same-origin and always allowed.
    ws, connected, _ = await socket(origin="http://helpdesk.example.com", host="helpdesk.example.com")
    assert connected
    await ws.disconnect()


async def test_a_socket_must_authenticate_before_anything_else(inbox):
    ws, connected, _ = await socket()
    assert connected
    await ws.send_json_to({"type": "resume", "last_seq": 0})
    assert (await ws.receive_output(timeout=2))["code"] == 4401
    ws, _, _ = await socket()
    await ws.send_json_to({"type": "auth", "token": "forged.token.value"})
    assert (await ws.receive_json_from())["error"] == "invalid_token"
    assert (await ws.receive_output(timeout=2))["code"] == 4401


@override_settings(LIVECHAT_RATE_LIMIT_PER_MINUTE=2)
async def test_each_visitor_is_rate_limited(inbox):
    _, token = await db(make_visitor)(inbox)
    ws, _ = await authed(token)
    await send(ws, "a", "one")
    await send(ws, "b", "two")
    await ws.send_json_to({"type": "send", "client_id": "c", "text": "three"})
    frames = await frames_until(ws, "error")
    assert frames[-1]["client_id"] == "c" and "too fast" in frames[-1]["error"]
    assert await db(Message.objects.count)() == 2
    # Another visitor is not affected.
    _, other = await db(make_visitor)(inbox)
    ws2, _ = await authed(other)
    assert (await send(ws2, "a", "hello"))[-1]["type"] == "ack"
    await ws.disconnect()
    await ws2.disconnect()


async def test_empty_and_oversized_messages_get_a_clear_error(inbox):
    _, token = await db(make_visitor)(inbox)
    ws, _ = await authed(token)
    await ws.send_json_to({"type": "send", "client_id": "a", "text": "   "})
    assert "empty" in (await frames_until(ws, "error"))[-1]["error"]
    await ws.send_json_to({"type": "send", "client_id": "b", "text": "x" * 6000})
    assert "too long" in (await frames_until(ws, "error"))[-1]["error"]
    await ws.send_json_to({"type": "send", "client_id": "bad id!", "text": "hi"})
    assert "Invalid" in (await frames_until(ws, "error"))[-1]["error"]
    assert await db(Message.objects.count)() == 0
    await ws.disconnect()


async def test_contact_email_makes_the_visitor_reachable_and_a_participant(inbox, run_tasks):
    session, token = await db(make_visitor)(inbox)
    ws, _ = await authed(token)
    ack = (await send(ws, "c-1", "hi"))[-1]
    await ws.send_json_to({"type": "contact", "name": "Vera", "email": "Vera@Example.com"})
    assert (await frames_until(ws, "contact"))[-1]["has_email"] is True
    await db(session.refresh_from_db)()
    assert session.email == "vera@example.com" and session.name == "Vera"
    ticket = await db(Ticket.objects.get)(pk=ack["ticket"])
    assert ["email", "vera@example.com"] in ticket.meta["participants"]
    await ws.send_json_to({"type": "contact", "email": "not-an-email"})
    assert "valid email" in (await frames_until(ws, "error"))[-1]["error"]

    await ws.send_json_to({"type": "transcript"})
    assert (await frames_until(ws, "transcript"))[-1]["email"] == "vera@example.com"
    await db(run_tasks)()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["vera@example.com"] and "hi" in mail.outbox[0].body
    await ws.disconnect()


async def test_connection_count_tracks_open_sockets(inbox):
    session, token = await db(make_visitor)(inbox)
    ws, _ = await authed(token)
    await presence.counts.flush()
    assert (await db(VisitorSession.objects.get)(pk=session.pk)).connections == 1
    await ws.disconnect()
    await presence.counts.flush()
    assert (await db(VisitorSession.objects.get)(pk=session.pk)).connections == 0


async def test_connection_counts_are_written_in_one_batch_on_their_own(inbox):
    """Sockets opened and closed are counted in memory and written together, by the flush timer
    (not on the connect path): two visitors connecting, one leaving, a third seen."""
    await presence.counts.flush()  # nothing left over from another test
    sessions = [await db(make_visitor)(inbox) for _ in range(3)]
    first, _ = await authed(sessions[0][1])
    second, _ = await authed(sessions[1][1])
    await second.disconnect()
    presence.counts.seen(sessions[2][0].pk)
    timer = presence.counts.timer
    assert timer is not None and presence.counts.pending == {sessions[0][0].pk: 1, sessions[1][0].pk: 0,
                                                             sessions[2][0].pk: 0}
    # The timer's own flush (FLUSH_SECONDS), not a call from the test, writes them. It empties
    # `pending` before its write (on a thread) commits, so wait for the rows, not for `pending`.
    for _ in range(200):
        rows = {s.pk: s for s in await db(list)(VisitorSession.objects.filter(pk__in=[s.pk for s, _ in sessions]))}
        if [rows[s.pk].connections for s, _ in sessions] == [1, 0, 0]:
            break
        await asyncio.sleep(0.05)
    assert not presence.counts.pending and presence.counts.timer is None
    assert [rows[s.pk].connections for s, _ in sessions] == [1, 0, 0]
    assert all(rows[s.pk].last_seen_at > s.last_seen_at for s, _ in sessions)
    await first.disconnect()
    await presence.counts.flush()


async def test_agent_typing_shows_while_the_panel_is_open(inbox, agent):
    from datetime import timedelta

    from django.utils import timezone

    from tickets import presence

    _, token = await db(make_visitor)(inbox)
    ws, _ = await authed(token)
    ack = (await send(ws, "c-1", "anyone there?"))[-1]
    await db(presence.join)(agent, "console-1", ack["ticket"])
    await db(presence.heartbeat)("console-1", ticket_id=ack["ticket"], typing=True)
    await ws.send_json_to({"type": "open", "open": True})
    typing = (await frames_until(ws, "typing"))[-1]
    assert typing == {"type": "typing", "name": "Agnes", "typing": True}
    from tickets.models import AgentPresence

    await db(AgentPresence.objects.update)(typing_until=timezone.now() - timedelta(seconds=1))
    assert (await frames_until(ws, "typing"))[-1]["typing"] is False
    await ws.send_json_to({"type": "open", "open": False})
    await ws.disconnect()


async def test_the_first_resume_from_the_history_seq_reads_nothing_yet_misses_nothing(inbox, agent, monkeypatch):
    """The socket joins its groups before the history's seq is read, so a resume from exactly
    that seq needs no log read; a bell that rang in between (a reply committed after the
    history, before the resume) still makes it read the log."""
    from tickets import events

    reads = []
    real = events.events_since
    monkeypatch.setattr(events, "events_since", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    _, token = await db(make_visitor)(inbox)
    ws, _ = await authed(token)
    ack = (await send(ws, "c-1", "Hello"))[-1]
    await events_of(ws, 1)
    await ws.disconnect()
    ticket = await db(Ticket.objects.get)(pk=ack["ticket"])

    reads.clear()
    ws, ready = await authed(token, history=True)  # resumes from ready["history"]["seq"]
    assert await ws.receive_nothing(timeout=0.2)
    assert reads == []
    await db(services.reply)(ticket, author=agent, text="live reply", client_id="r-0")
    assert [e["data"]["text"] for e in await events_of(ws, 1)] == ["live reply"]
    await ws.disconnect()

    ws, ready = await authed(token, history=True, resume=False)
    await db(services.reply)(ticket, author=agent, text="between history and resume", client_id="r-1")
    reads.clear()
    await ws.send_json_to({"type": "resume", "last_seq": ready["history"]["seq"]})
    got = await events_of(ws, 1)
    assert [e["data"]["text"] for e in got] == ["between history and resume"]
    from channels.layers import get_channel_layer

    from tickets.doorbell import process_local

    if process_local(get_channel_layer()):  # the bell rang before the resume: it made it read the log
        assert reads == [ready["history"]["seq"]]
    else:  # Redis may deliver the bell after the resume: then it carries the event, read or not
        assert reads in ([], [ready["history"]["seq"]])
    await ws.disconnect()
