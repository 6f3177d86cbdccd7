"""A notification push reaches every console socket of its agent, and no one else's."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from tests.test_console_socket_auth import handshake, logged_in
from tickets import events

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_push_to_an_agents_group_reaches_their_sockets_only(agent, bob):
    agnes, _connected, _ = await handshake(await database_sync_to_async(logged_in)(agent))
    bobs, _connected, _ = await handshake(await database_sync_to_async(logged_in)(bob))
    frame = json.dumps({"type": "notice", "app": "notifications", "unread": 1, "items": []})
    await get_channel_layer().group_send(events.user_group(bob.pk), {"type": "user.notice", "frame": frame})
    assert await bobs.receive_json_from(timeout=5) == json.loads(frame)
    assert await agnes.receive_nothing(timeout=0.3)
    await agnes.disconnect()
    await bobs.disconnect()
