"""Collision detection over the console socket: who else views or types on a ticket."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.factories import inbound
from tickets import services
from tickets.console.consumers import ConsoleConsumer
from tickets.models import AgentPresence

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user):
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def presence(communicator, predicate=lambda m: True):
    while True:
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == "presence" and predicate(message):
            return message


async def test_two_agents_on_one_ticket_see_each_other_view_and_type(agent, bob):
    ticket_id = (await database_sync_to_async(services.ingest)(inbound("ada@example.com", "hi"))).message.ticket_id
    alice_socket, bob_socket = await connect(agent), await connect(bob)
    await alice_socket.send_json_to({"type": "view", "ticket": ticket_id})
    first = await presence(alice_socket)
    assert [v["name"] for v in first["viewers"]] == ["Agnes"]
    await bob_socket.send_json_to({"type": "view", "ticket": ticket_id})
    both = await presence(alice_socket, lambda m: len(m["viewers"]) == 2)
    assert {v["name"] for v in both["viewers"]} == {"Agnes", "Bob"}
    await bob_socket.send_json_to({"type": "typing", "ticket": ticket_id})
    typing = await presence(alice_socket, lambda m: any(v["typing"] for v in m["viewers"]))
    assert [v["name"] for v in typing["viewers"] if v["typing"]] == ["Bob"]
    # Bob leaves: Alice is told.
    await bob_socket.disconnect()
    alone = await presence(alice_socket, lambda m: len(m["viewers"]) == 1)
    assert alone["viewers"][0]["name"] == "Agnes"
    await alice_socket.disconnect()
    assert not await database_sync_to_async(AgentPresence.objects.exists)()


async def test_switching_tickets_leaves_the_old_one(agent, bob):
    ingest = database_sync_to_async(services.ingest)
    one = (await ingest(inbound("ada@example.com", "one"))).message.ticket_id
    two = (await ingest(inbound("bea@example.com", "two"))).message.ticket_id
    alice_socket, bob_socket = await connect(agent), await connect(bob)
    await alice_socket.send_json_to({"type": "view", "ticket": one})
    await presence(alice_socket)
    await bob_socket.send_json_to({"type": "view", "ticket": one})
    await presence(alice_socket, lambda m: len(m["viewers"]) == 2)
    await bob_socket.send_json_to({"type": "view", "ticket": two})
    left = await presence(alice_socket, lambda m: len(m["viewers"]) == 1)
    assert left["ticket"] == one
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_a_non_agent_cannot_open_the_console_socket(django_user_model):
    user = await database_sync_to_async(django_user_model.objects.create_user)("visitor", password="pw")
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    assert not connected and code == 4403
