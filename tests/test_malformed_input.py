"""Hostile or broken input never gives a 500 or a websocket close 1011 (issue 12, availability).

Each webhook and the chat API gets JSON nested 100,000 deep, a lone surrogate, NaN, wrong JSON
types and non-object top levels; the answer is a clear 4xx (payload kept for replay) or a 200
with the payload quarantined, and what can be kept (text with a lone surrogate) is kept."""

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from tests.email_helpers import BASIC_AUTH, SUPPORT
from tests.fakes.social import post_meta, post_telegram
from tests.fakes.twilio import sign
from tests.livechat_helpers import authed, frames_until, make_inbox, make_visitor
from tickets import safejson
from tickets.models import InboundPayload, Message

DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
MALFORMED = {
    "nested 100,000 deep (arrays)": DEEP_ARRAY,
    "nested 100,000 deep (objects)": DEEP_OBJECT,
    "nested 65 deep": b'{"a":' * 65 + b"1" + b"}" * 65,
    "NaN": b'{"update_id": NaN, "object": NaN}',
    "Infinity": b'{"update_id": 1e999, "object": Infinity}',
    "top-level array": b"[]",
    "top-level string": b'"hello"',
    "top-level null": b"null",
    "top-level number": b"7",
    "not UTF-8": b'{"text": "\xff\xfe"}',
    "truncated": b'{"object": "page", "entry": [',
}


@pytest.fixture
def web():
    """A test client that answers 500 as a 500 (instead of re-raising), like a real server."""
    return Client(raise_request_exception=False)


def assert_clear_refusal(response):
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response.content.strip(), "a refusal says why"


# --- the shared loader ------------------------------------------------------------------------

def test_safe_loader_refuses_what_json_loads_cannot_survive():
    with pytest.raises(safejson.BadJson, match="nested deeper than 64 levels"):
        safejson.loads(DEEP_ARRAY)
    with pytest.raises(safejson.BadJson, match="nested deeper than 64 levels"):
        safejson.loads(b'{"a":' * 65 + b"1" + b"}" * 65)
    with pytest.raises(safejson.BadJson, match="NaN is not JSON"):
        safejson.loads(b'{"a": NaN}')
    with pytest.raises(safejson.BadJson, match="out of range"):
        safejson.loads(b'{"a": 1e999}')
    with pytest.raises(safejson.BadJson, match="expected a JSON object, got array"):
        safejson.loads(b"[1]")
    with pytest.raises(safejson.BadJson, match="expected a JSON object, got null"):
        safejson.loads(b"null")
    assert safejson.loads(b'{"a": {"b": [1, 2.5, "x"]}}') == {"a": {"b": [1, 2.5, "x"]}}


def test_safe_loader_keeps_text_with_lone_surrogates_as_replacement_characters():
    value = safejson.loads(b'{"k\\ud800": ["\\udc00 ok", {"t": "\\ud83d\\ude00 \\ud800"}]}')
    assert value == {"k\ufffd": ["\ufffd ok", {"t": "\U0001f600 \ufffd"}]}
    json.dumps(value).encode("utf-8")  # encodable: the database write will not fail
    # Raw surrogate bytes too (json.loads decodes bytes with "surrogatepass").
    assert safejson.loads(b'{"t": "a\xed\xa0\x80b"}') == {"t": "a\ufffdb"}


# --- every JSON webhook -------------------------------------------------------------------------

def post_postmark(client, body: bytes):
    return client.generic("POST", "/anymail/postmark/inbound/", body, content_type="application/json",
                          headers={"Authorization": BASIC_AUTH})


@pytest.mark.django_db
@pytest.mark.parametrize("post", [post_meta, post_telegram, post_postmark], ids=["meta", "telegram", "postmark"])
@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_json_is_4xx_and_kept_for_replay(web, post, body):
    response = post(web, body)
    assert response.status_code == 400, response.content[:300]
    assert InboundPayload.objects.get().state == InboundPayload.State.FAILED


# --- Meta (Messenger, Instagram, WhatsApp Cloud) -----------------------------------------------

META_WRONG_TYPES = {
    "entry is a string": {"object": "page", "entry": "x"},
    "entry items are not objects": {"object": "page", "entry": ["x", 1, None]},
    "messaging event of wrong types": {"object": "page", "entry": [
        {"id": "1", "time": 1, "messaging": [{"sender": "x", "recipient": 5, "message": 5}]}]},
    "message fields of wrong types": {"object": "page", "entry": [
        {"id": "1", "time": 1, "messaging": [{"sender": {"id": ["a"]}, "recipient": {"id": {}},
                                              "timestamp": "soon", "message": {"mid": 5, "text": ["x"]}}]}]},
    "whatsapp changes of wrong types": {"object": "whatsapp_business_account", "entry": [
        {"id": "1", "changes": [{"field": "messages", "value": {"messages": "x", "contacts": 5}}]}]},
}


@pytest.mark.django_db
@pytest.mark.parametrize("payload", META_WRONG_TYPES.values(), ids=META_WRONG_TYPES.keys())
def test_meta_wrong_json_types_never_500(web, payload):
    assert_clear_refusal(post_meta(web, payload))
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_meta_lone_surrogate_keeps_the_message(web):
    body = (b'{"object":"page","entry":[{"id":"PAGE","time":1,"messaging":[{"sender":{"id":"PSID1"},'
            b'"recipient":{"id":"PAGE"},"timestamp":1700000000000,"message":{"mid":"m.1","text":"hi \\ud800!"}}]}]}')
    assert post_meta(web, body).status_code == 200
    assert Message.objects.get().text == "hi \ufffd!"


@pytest.mark.django_db
def test_meta_batch_beyond_the_item_bound_is_quarantined_not_processed(web, settings):
    settings.HELPDESK_WEBHOOK_MAX_ITEMS = 5
    events = [{"sender": {"id": f"PSID{i}"}, "recipient": {"id": "PAGE"}, "timestamp": 1700000000000,
               "message": {"mid": f"m.{i}", "text": f"hello {i}"}} for i in range(12)]
    response = post_meta(web, {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": events}]})
    assert response.status_code == 200  # Meta must not retry it
    payload = InboundPayload.objects.get()
    assert payload.state == InboundPayload.State.QUARANTINED
    assert "12 items in one request; at most 5" in payload.error
    assert not Message.objects.exists()

    # An admin lets it through: every item is stored, 5 per transaction.
    from tickets.services import process_request

    process_request(payload, release=True)
    assert Message.objects.count() == 12
    payload.refresh_from_db()
    assert payload.state == InboundPayload.State.PROCESSED


# --- Telegram ---------------------------------------------------------------------------------

TELEGRAM_WRONG_TYPES = {
    "message is a list": {"update_id": 1, "message": []},
    "ids of wrong types": {"update_id": 2, "message": {"message_id": [], "chat": {"id": {}}, "text": 5, "from": "x"}},
    "from is a string": {"update_id": 3, "message": {"message_id": 1, "chat": {"id": 5}, "from": "x", "text": "hi"}},
    "chat is a number": {"update_id": 4, "message": {"message_id": 1, "chat": 5, "text": "hi"}},
    "update_id is a bool": {"update_id": True, "message": {"message_id": 1, "chat": {"id": 5}, "text": "hi"}},
}


@pytest.mark.django_db
@pytest.mark.parametrize("update", TELEGRAM_WRONG_TYPES.values(), ids=TELEGRAM_WRONG_TYPES.keys())
def test_telegram_wrong_json_types_never_500(web, update):
    assert_clear_refusal(post_telegram(web, update))


@pytest.mark.django_db
def test_telegram_lone_surrogate_keeps_the_message(web):
    body = b'{"update_id": 9, "message": {"message_id": 3, "chat": {"id": 42}, "from": {"id": 42}, "text": "\\ud800x"}}'
    assert post_telegram(web, body).status_code == 200
    assert Message.objects.get().text == "\ufffdx"


# --- Postmark (anymail) -----------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("payload", [{"FromFull": "x", "ToFull": 5, "Headers": {}}, {"Headers": "x"},
                                     {"FromFull": {"Email": ["a"]}, "MessageID": {}}],
                         ids=["FromFull a string", "Headers a string", "Email a list"])
def test_postmark_wrong_json_types_never_500(web, payload):
    assert_clear_refusal(post_postmark(web, json.dumps(payload).encode()))


@pytest.mark.django_db
def test_postmark_lone_surrogate_keeps_the_mail(web):
    from tests.email_helpers import fixture_json

    payload = fixture_json("postmark_inbound.json")
    body = json.dumps(payload).replace('"TextBody": "', '"TextBody": "\\ud800 ', 1).encode()
    assert b"\\ud800" in body
    assert post_postmark(web, body).status_code == 200
    assert "\ufffd" in Message.objects.get().meta.get("original_text", Message.objects.get().text)


# --- Mailgun: a MIME tree nested 2,000 deep ------------------------------------------------------

def nested_mime(depth: int) -> str:
    head = (f"From: Jane <jane@example.org>\r\nTo: {SUPPORT}\r\nSubject: deep\r\n"
            "Message-ID: <deep-1@example.org>\r\nMIME-Version: 1.0\r\n")
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    closing = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(depth)))
    return head + opening + "Content-Type: text/plain\r\n\r\nhello\r\n" + closing


@pytest.mark.django_db
def test_mailgun_mime_nested_2000_deep_is_quarantined_not_500(web):
    timestamp, token = str(int(time.time())), "t" * 50
    signature = hmac.new(b"test-mailgun-signing-key", (timestamp + token).encode(), hashlib.sha256).hexdigest()
    body = urlencode({"body-mime": nested_mime(2000), "timestamp": timestamp, "token": token,
                      "signature": signature, "recipient": SUPPORT}).encode()
    response = web.generic("POST", "/anymail/mailgun/inbound_mime/", body,
                           content_type="application/x-www-form-urlencoded", headers={"Authorization": BASIC_AUTH})
    assert response.status_code == 200, response.content[:300]  # Mailgun must not retry it
    payload = InboundPayload.objects.get()
    assert payload.state == InboundPayload.State.QUARANTINED
    assert "nested too deeply" in payload.error
    assert bytes(payload.body) == body  # the raw payload is kept


# --- Twilio -------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("params", [
    {"NumMedia": "1000000000", "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
     "MediaContentType0": "image/jpeg"},
    {"NumMedia": "-3"}, {"NumMedia": "NaN"}, {"Body": "\ud800"},
], ids=["NumMedia huge", "NumMedia negative", "NumMedia NaN", "lone surrogate"])
def test_twilio_odd_fields_never_500(web, settings, params):
    fields = {"MessageSid": "SM" + "1" * 32, "AccountSid": settings.TWILIO_ACCOUNT_SID, "From": "+14155550123",
              "To": "+15005550006", "Body": "hello", "NumMedia": "0", **params}
    body = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in fields.items()}).encode()
    path = "/channels/twilio/sms/"
    from django.http import QueryDict

    signature = sign(settings.HELPDESK_PUBLIC_URL + path, QueryDict(body, encoding="utf-8"), settings.TWILIO_AUTH_TOKEN)
    response = web.generic("POST", path, body, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": signature})
    assert_clear_refusal(response)
    if params.get("MediaUrl0"):
        assert Message.objects.get().attachments.count() == 1  # a billion announced, one real


# --- the chat session API and the chat socket ----------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_chat_session_api_malformed_json_is_400(web, body):
    make_inbox(key="shop")
    response = web.generic("POST", "/chat/api/shop/session/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"].startswith("Malformed request")


@pytest.mark.django_db
def test_chat_session_api_wrong_types_are_not_trusted(web):
    make_inbox(key="shop")
    response = web.generic("POST", "/chat/api/shop/session/",
                           json.dumps({"token": ["x"], "user_id": None, "page": {"a": 1}}).encode(),
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["token"]


FRAMES = {
    "nested 100,000 deep": DEEP_ARRAY.decode(),
    "a list": "[1, 2]",
    "NaN": '{"type": "ping", "x": NaN}',
    "not JSON": "{nope",
}


@pytest.mark.django_db(transaction=True)
async def test_chat_socket_answers_bad_frames_with_an_error_and_stays_open():
    inbox = await database_sync_to_async(make_inbox)(key="shop")
    _session, token = await database_sync_to_async(make_visitor)(inbox)
    ws, _ready = await authed(token)
    for name, frame in FRAMES.items():
        await ws.send_to(text_data=frame)
        answer = await ws.receive_json_from(timeout=5)
        assert answer["type"] == "error" and answer["error"].startswith("malformed frame"), name
    await ws.send_to(bytes_data=b"\x00\x01")
    assert (await ws.receive_json_from(timeout=5))["type"] == "error"
    # Wrong types inside a well-formed frame: a clear refusal, not a crash.
    await ws.send_json_to({"type": "send", "client_id": "c-1", "text": {"a": 1}})
    refused = await frames_until(ws, "error")
    assert refused[-1]["error"] == "The message must be text."
    # A lone surrogate is kept as a replacement character.
    await ws.send_to(text_data='{"type": "send", "client_id": "c-2", "text": "hi \\ud800"}')
    ack = (await frames_until(ws, "ack"))[-1]
    assert (await database_sync_to_async(Message.objects.get)(pk=ack["id"])).text == "hi \ufffd"
    await ws.send_json_to({"type": "ping"})
    assert (await frames_until(ws, "pong"))[-1]["type"] == "pong"  # still open
    await ws.disconnect()
