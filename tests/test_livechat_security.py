"""One visitor's token can never read or write another visitor's conversation, over the
websocket or over HTTP; a typed email never identifies anyone."""

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile

from livechat import conversation, visitors
from tests.livechat_helpers import ORIGIN, authed, events_of, frames_until, make_inbox, make_visitor
from tickets import services
from tickets.channels import InboundAttachment
from tickets.models import Customer, Message, Ticket

db = database_sync_to_async


@pytest.fixture
def inbox():
    return make_inbox()


@pytest.mark.django_db(transaction=True)
async def test_a_visitor_socket_never_receives_another_visitors_events(inbox, agent):
    _, token_a = await db(make_visitor)(inbox)
    _, token_b = await db(make_visitor)(inbox)
    ws_a, _ = await authed(token_a)
    ws_b, _ = await authed(token_b)
    await ws_a.send_json_to({"type": "send", "client_id": "same-id", "text": "A's secret order 123"})
    ack_a = (await frames_until(ws_a, "ack"))[-1]
    await ws_b.send_json_to({"type": "send", "client_id": "same-id", "text": "B says hi"})
    ack_b = (await frames_until(ws_b, "ack"))[-1]
    assert ack_a["ticket"] != ack_b["ticket"] and ack_a["id"] != ack_b["id"]
    ticket_a = await db(Ticket.objects.get)(pk=ack_a["ticket"])
    await db(services.reply)(ticket_a, author=agent, text="for A only", client_id="r")

    got_b = await events_of(ws_b, 1)
    assert [e["data"]["text"] for e in got_b] == ["B says hi"]
    assert await ws_b.receive_nothing(timeout=0.3)
    texts_a = [e["data"]["text"] for e in await events_of(ws_a, 2)]
    assert texts_a == ["A's secret order 123", "for A only"]

    # B replaying the whole log from 0 still sees only its own conversation.
    ws_b2, ready = await authed(token_b, history=True, resume=False)
    assert [m["text"] for m in ready["history"]["messages"]] == ["B says hi"]
    await ws_b2.send_json_to({"type": "resume", "last_seq": 0})
    frames = []
    while not await ws_b2.receive_nothing(timeout=0.3):
        frames.append(await ws_b2.receive_json_from())
    assert [f["data"]["text"] for f in frames if f["type"] == "event"] == ["B says hi"]
    for ws in (ws_a, ws_b, ws_b2):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_token_for_one_inbox_does_not_open_another(inbox):
    await db(make_inbox)("other", allowed_origins=ORIGIN)
    _, token = await db(make_visitor)(inbox)
    from tests.livechat_helpers import socket

    ws, connected, _ = await socket("other")
    assert connected
    await ws.send_json_to({"type": "auth", "token": token})
    assert (await ws.receive_json_from())["error"] == "invalid_token"


@pytest.mark.django_db
def test_http_downloads_only_serve_the_visitors_own_files(client, inbox, agent):
    session_a, token_a = make_visitor(inbox)
    _, token_b = make_visitor(inbox)
    message = conversation.send(session_a, "f-1", "see file",
                                attachments=(InboundAttachment("a.txt", "text/plain", b"A's data"),))
    attachment = message.attachments.get()
    url = f"/chat/api/shop/attachments/{attachment.pk}/"
    assert client.get(url, headers={"Authorization": f"Bearer {token_a}"}).status_code == 200
    assert client.get(url, headers={"Authorization": f"Bearer {token_b}"}).status_code == 404
    assert client.get(url).status_code == 401

    # Internal notes on the visitor's own ticket stay invisible too.
    services.note(message.ticket, author=agent, text="internal")
    assert [m["text"] for m in conversation.history(session_a)["messages"]] == ["see file"]


@pytest.mark.django_db
def test_http_uploads_always_land_in_the_senders_own_conversation(client, inbox):
    session_a, token_a = make_visitor(inbox)
    session_b, token_b = make_visitor(inbox)
    a = conversation.send(session_a, "x-1", "A")
    response = client.post("/chat/api/shop/upload/",
                           {"file": SimpleUploadedFile("n.txt", b"hi", content_type="text/plain"),
                            "client_id": "x-1"},  # A's client id: namespaced, so no collision
                           headers={"Authorization": f"Bearer {token_b}", "Origin": ORIGIN})
    assert response.status_code == 201
    b = Message.objects.get(pk=response.json()["id"])
    assert b.pk != a.pk and b.ticket_id != a.ticket_id
    assert b.identity.address == session_b.address
    assert visitors.ticket_ids(session_b.address) == [b.ticket_id]


@pytest.mark.django_db
def test_a_typed_email_never_joins_an_existing_customer(inbox):
    from tests.factories import inbound

    existing = services.ingest(inbound("ceo@example.com", "private email thread")).message
    session, _ = make_visitor(inbox)
    conversation.set_contact(session, name="Mallory", email="ceo@example.com")
    chat = conversation.send(session, "m-1", "show me the CEO's tickets")
    assert chat.customer_id != existing.customer_id
    assert chat.ticket_id != existing.ticket_id
    assert Customer.objects.count() == 2
    assert [m["text"] for m in conversation.history(session)["messages"]] == ["show me the CEO's tickets"]


@pytest.mark.django_db
def test_only_a_valid_user_hash_joins_the_users_history(inbox):
    good = visitors.user_hash(inbox, "u-7")
    laptop = visitors.open_session(inbox, user_id="u-7", given_hash=good)
    first = conversation.send(laptop, "l-1", "from my laptop")
    phone = visitors.open_session(inbox, user_id="u-7", given_hash=good)
    second = conversation.send(phone, "p-1", "and from my phone")
    assert second.ticket_id == first.ticket_id
    assert [m["text"] for m in conversation.history(phone)["messages"]] == ["from my laptop", "and from my phone"]
    with pytest.raises(visitors.InvalidToken, match="user_hash does not match user_id"):
        visitors.open_session(inbox, user_id="u-7", given_hash=visitors.user_hash(inbox, "u-8"))
