"""PostgreSQL's connection pool gets back every slot a websocket consumer session borrowed.

A slot lent to a thread that ends before giving it back is lost for good (psycopg_pool cannot
take it back): the suite used to run a pool of 8 dry after ~340 tests, and a long-lived server
would too. Each session runs on an event loop of its own, as under a server whose loop (and its
executor threads) come and go: with the leak, every session left one or more slots behind."""

import asyncio
import os

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection

from tests.factories import inbound
from tickets import events, services
from tickets.console.consumers import ConsoleConsumer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


async def console_session(user, text):
    """Connect, resume, see a new conversation's events arrive live, disconnect."""
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.send_json_to({"type": "resume", "last_seq": await database_sync_to_async(events.current_seq)()})
    await database_sync_to_async(services.ingest)(inbound("ada@example.com", text))
    kinds = []
    while "message.created" not in kinds:
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == "event":
            kinds.append(message["kind"])
        elif message["type"] == "events":
            kinds += [e["kind"] for e in message["events"]]
    await communicator.send_json_to({"type": "ping"})
    await communicator.disconnect()
    # asgiref's one thread-sensitive thread outlives the loop and keeps its connection for the
    # next call (channels.testing stubs out the close Channels does after each call; a server
    # closes it). Give it back here so that only what dead threads kept is counted.
    await sync_to_async(close_connection)()
    return kinds


def close_connection():
    connection.close()  # the calling thread's own: `connection` is per thread


def in_use():
    stats = connection.pool.get_stats()
    return stats["pool_size"] - stats["pool_available"]


def test_a_console_session_gives_back_every_pool_slot(agent):
    if connection.pool is None:
        assert not os.environ.get("CI"), "CI's PostgreSQL pass must run with the pool (.ci/run)"
        pytest.skip("needs the PostgreSQL pool (DATABASE_POOL_SIZE > 0, the default)")
    # The first session opens what stays open between sessions (this thread's connection).
    assert asyncio.run(console_session(agent, "warm-up")) == ["ticket.created", "message.created"]
    before = in_use()
    for text in ("one", "two", "three"):
        assert "message.created" in asyncio.run(console_session(agent, text))
    assert in_use() == before, connection.pool.get_stats()
