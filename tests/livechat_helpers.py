"""Shared pieces of the live-chat tests: an inbox, visitors with tokens, a websocket client."""

from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from livechat import visitors
from livechat.models import Inbox
from livechat.routing import websocket_urlpatterns

ORIGIN = "https://shop.example.com"
app = URLRouter(websocket_urlpatterns)


def make_inbox(key="shop", **kwargs):
    kwargs.setdefault("allowed_origins", ORIGIN)
    kwargs.setdefault("hmac_secret", "s3cret-for-tests")
    return Inbox.objects.create(key=key, name=key.title(), **kwargs)


def make_visitor(inbox, **kwargs):
    session = visitors.open_session(inbox, **kwargs)
    return session, visitors.make_token(session)


async def socket(inbox_key="shop", origin=ORIGIN, host="helpdesk.example.com"):
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(app, f"/ws/chat/{inbox_key}/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def frames_until(communicator, kind, timeout=5):
    """Frames received up to and including the first of type `kind`."""
    got = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        got.append(frame)
        if frame.get("type") == kind:
            return got


async def authed(token, inbox_key="shop", history=False, resume=True):
    """A connected, authenticated visitor socket that has resumed from the current seq."""
    communicator, connected, _ = await socket(inbox_key)
    assert connected
    await communicator.send_json_to({"type": "auth", "token": token, "history": history})
    ready = await communicator.receive_json_from(timeout=5)
    assert ready["type"] == "ready", ready
    if resume:
        seq = ready["history"]["seq"] if history else await database_sync_to_async(_current_seq)()
        await communicator.send_json_to({"type": "resume", "last_seq": seq})
    return communicator, ready


def _current_seq():
    from tickets.events import current_seq

    return current_seq()


async def events_of(communicator, count, timeout=5):
    got = []
    while len(got) < count:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == "event":
            got.append(frame)
    return got
