"""Pre-chat "email required" is the server's rule, not only the widget's (issue 12): neither the
visitor socket nor the upload API lets a message in before the visitor left an email."""

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile

from livechat import conversation
from tests.livechat_helpers import ORIGIN, authed, make_inbox, make_visitor
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

REFUSAL = "Please leave your email address before starting the chat."


@pytest.fixture
def inbox():
    return make_inbox(prechat_enabled=True, prechat_require_email=True)


def upload(client, token, inbox_key="shop"):
    return client.post(f"/chat/api/{inbox_key}/upload/",
                       {"file": SimpleUploadedFile("note.txt", b"hi", content_type="text/plain"),
                        "client_id": "u1", "text": "see file"},
                       headers={"Origin": ORIGIN, "Authorization": f"Bearer {token}"})


async def test_the_socket_refuses_a_message_before_the_email_then_takes_it(inbox):
    session, token = await database_sync_to_async(make_visitor)(inbox)
    communicator, _ready = await authed(token)
    await communicator.send_json_to({"type": "send", "client_id": "m1", "text": "hello?"})
    frame = await communicator.receive_json_from(timeout=5)
    assert frame == {"type": "error", "client_id": "m1", "error": REFUSAL}
    assert await database_sync_to_async(Message.objects.count)() == 0

    await communicator.send_json_to({"type": "contact", "name": "Ada", "email": "ada@example.com"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "contact"
    await communicator.send_json_to({"type": "send", "client_id": "m2", "text": "hello"})
    frames = []
    while not frames or frames[-1]["type"] != "ack":
        frames.append(await communicator.receive_json_from(timeout=5))
    assert await database_sync_to_async(Message.objects.filter(text="hello").count)() == 1
    await communicator.disconnect()


def test_the_upload_api_refuses_a_file_before_the_email(client, inbox):
    _session, token = make_visitor(inbox)
    response = upload(client, token)
    assert response.status_code == 403 and response.json() == {"error": REFUSAL}
    assert not Message.objects.exists() and not Ticket.objects.exists()


def test_email_optional_or_no_prechat_lets_messages_in(inbox):
    inbox.prechat_require_email = False
    inbox.save()
    session, _token = make_visitor(inbox)
    assert conversation.send(session, "m1", "hi").text == "hi"
    inbox.prechat_enabled, inbox.prechat_require_email = False, True
    inbox.save()
    session, _token = make_visitor(inbox)
    assert conversation.send(session, "m2", "hi again").text == "hi again"
