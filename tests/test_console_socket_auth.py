"""The console socket's handshake through the real ASGI application: the session cookie is the
only credential, verified like Django's own (a changed password ends old sessions)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from helpdesk.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def handshake(session_key=None):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if session_key:
        headers.append((b"cookie", f"other=1; sessionid={session_key}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/console/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def test_an_agents_session_cookie_opens_the_console_socket(agent):
    communicator, connected, _ = await handshake(await database_sync_to_async(logged_in)(agent))
    assert connected
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"
    await communicator.disconnect()


async def test_no_cookie_or_an_unknown_session_is_refused():
    for key in (None, "not-a-session"):
        _, connected, code = await handshake(key)
        assert not connected and code == 4403


async def test_a_changed_password_ends_the_sessions_sockets(agent):
    key = await database_sync_to_async(logged_in)(agent)

    def change_password():
        agent.set_password("a new one")
        agent.save()

    await database_sync_to_async(change_password)()
    _, connected, code = await handshake(key)
    assert not connected and code == 4403
