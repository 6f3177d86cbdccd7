"""The event log's resume protocol, through the real console consumer and channel layer."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from tests.factories import inbound
from tickets import events, services
from tickets.console.consumers import ConsoleConsumer
from tickets.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user):
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


ingest = database_sync_to_async(lambda text, **kw: services.ingest(inbound("ada@example.com", text, **kw)))


async def receive_events(communicator, count):
    got = []
    while len(got) < count:
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == "event":
            got.append(message)
    return got


async def test_a_live_event_reaches_a_connected_agent_after_commit(agent):
    communicator, connected, _ = await connect(agent)
    assert connected
    await communicator.send_json_to({"type": "resume", "last_seq": await database_sync_to_async(events.current_seq)()})
    result = await ingest("live one")
    got = await receive_events(communicator, 2)
    assert [e["kind"] for e in got] == ["ticket.created", "message.created"]
    assert got[1]["data"]["id"] == result.message.pk and got[1]["data"]["text"] == "live one"
    assert got[0]["seq"] < got[1]["seq"]
    await communicator.disconnect()


async def test_a_reconnecting_client_gets_exactly_what_it_missed_in_order(agent):
    await ingest("before")
    resume_from = await database_sync_to_async(events.current_seq)()
    for text in ("missed 1", "missed 2", "missed 3"):
        await ingest(text)
    communicator, _, _ = await connect(agent)
    await communicator.send_json_to({"type": "resume", "last_seq": resume_from})
    got = await receive_events(communicator, 3)
    assert [e["kind"] for e in got] == ["message.created"] * 3
    assert [e["data"]["text"] for e in got] == ["missed 1", "missed 2", "missed 3"]
    seqs = [e["seq"] for e in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[0] == resume_from + 1
    # Nothing more: no duplicate of what was replayed arrives later.
    assert await communicator.receive_nothing(timeout=0.3) or (await communicator.receive_json_from())["type"] == "cursor"
    await communicator.disconnect()


async def test_a_client_too_far_behind_is_told_to_reload(agent, settings):
    settings.HELPDESK_EVENT_REPLAY_LIMIT = 2
    for text in ("a", "b"):
        await ingest(text)
    communicator, _, _ = await connect(agent)
    await communicator.send_json_to({"type": "resume", "last_seq": 0})
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "reload" and "more than 2" in message["reason"]
    await communicator.disconnect()


async def test_a_pruned_gap_means_reload(agent):
    await ingest("old")
    await ingest("newer")
    oldest = await database_sync_to_async(lambda: Event.objects.order_by("seq").first().seq)()
    await database_sync_to_async(lambda: Event.objects.filter(seq__lte=oldest + 1).delete())()
    communicator, _, _ = await connect(agent)
    await communicator.send_json_to({"type": "resume", "last_seq": oldest})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "reload"
    await communicator.disconnect()


async def test_anonymous_users_are_refused():
    communicator, connected, code = await connect(AnonymousUser())
    assert not connected and code == 4403


async def test_a_non_agent_user_is_refused(django_user_model):
    user = await database_sync_to_async(django_user_model.objects.create_user)("customer", password="x")
    communicator, connected, code = await connect(user)
    assert not connected and code == 4403


def test_events_since_checks_every_event_and_keeps_the_cursor_moving(agent):
    first = services.ingest(inbound("ada@example.com", "ada's"))
    services.ingest(inbound("bob@example.com", "bob's"))
    services.note(first.message.ticket, author=agent, text="internal")
    scope = Q(customer=first.message.customer_id)
    public_only, cursor = events.events_since(0, scope, lambda e: e.public)
    assert [e["data"]["text"] for e in public_only] == ["ada's"]
    assert cursor == events.current_seq()
    nothing_new, again = events.events_since(cursor, scope, lambda e: True)
    assert nothing_new == [] and again == cursor


async def test_a_lost_doorbell_is_caught_by_the_periodic_check(agent, settings, monkeypatch):
    settings.HELPDESK_EVENT_POLL_SECONDS = 0.2
    communicator, _, _ = await connect(agent)
    await communicator.send_json_to({"type": "resume", "last_seq": await database_sync_to_async(events.current_seq)()})
    monkeypatch.setattr(events, "publish", lambda groups, seq: None)  # every ring is lost
    await ingest("written by another process")
    got = await receive_events(communicator, 2)
    assert got[-1]["data"]["text"] == "written by another process"
    await communicator.disconnect()
