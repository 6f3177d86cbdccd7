"""Messenger and Instagram through the one Meta webhook: handshake, batching, echoes, receipts,
media, replies-to, and what we send to the Graph API (faked at the HTTP transport)."""

import json
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from tests.fakes.social import fake_http, post_meta, reply_and_deliver
from tickets import services
from tickets.channels import get_adapter
from tickets.models import Attachment, Event, Identity, InboundPayload, Message, Ticket

pytestmark = pytest.mark.django_db

PAGE, PSID, IG_ACCOUNT, IGSID = "106123456789012", "6543210987654321", "17841400000000001", "1234567890123456"


def messaging(*events, obj="page", account=PAGE):
    return {"object": obj, "entry": [{"id": account, "time": 1785000001234, "messaging": list(events)}]}


def text_event(mid, text="hello", sender=PSID, account=PAGE, **message):
    return {"sender": {"id": sender}, "recipient": {"id": account}, "timestamp": 1785000000987,
            "message": {"mid": mid, "text": text, **message}}




# --- handshake and authenticity --------------------------------------------------------------------

def test_handshake_echoes_the_challenge_only_for_our_verify_token(client):
    url = "/channels/meta/webhook/"
    ok = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    assert client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}).status_code == 403
    assert client.get(url, {"hub.mode": "unsubscribe", "hub.verify_token": "test-verify-token",
                            "hub.challenge": "1"}).status_code == 403
    assert client.get(url).status_code == 403


def test_handshake_refused_when_no_verify_token_is_configured(client, settings):
    settings.META_VERIFY_TOKEN = ""
    response = client.get("/channels/meta/webhook/", {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})
    assert response.status_code == 403


def test_without_an_app_secret_nothing_verifies(client, settings):
    settings.META_APP_SECRET = ""
    response = post_meta(client, messaging(text_event("m_1")), secret="")
    assert response.status_code == 403
    assert InboundPayload.objects.count() == 0


def test_malformed_json_is_400_and_kept_for_replay(client):
    response = post_meta(client, b'{"object": "page", "entry": [')
    assert response.status_code == 400
    payload = InboundPayload.objects.get()
    assert payload.state == InboundPayload.State.FAILED and "JSON" in payload.error


def test_unknown_object_is_acknowledged_and_ignored(client):
    response = post_meta(client, {"object": "permissions", "entry": [{"id": "1", "changes": []}]})
    assert response.status_code == 200
    assert Message.objects.count() == 0
    assert InboundPayload.objects.get().state == InboundPayload.State.PROCESSED


# --- inbound ---------------------------------------------------------------------------------------

def test_batched_entries_and_events_are_all_ingested(client):
    body = {"object": "page", "entry": [
        {"id": PAGE, "time": 1, "messaging": [text_event("m_a1", "first"), text_event("m_a2", "second")]},
        {"id": PAGE, "time": 2, "messaging": [text_event("m_b1", "other person", sender="777")]},
    ]}
    assert post_meta(client, body).status_code == 200
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["m_a1", "m_a2", "m_b1"]
    assert Identity.objects.filter(channel="messenger").count() == 2
    first = Message.objects.get(external_id="m_a1")
    assert first.adapter == "messenger" and first.channel == "messenger"
    assert first.provider_timestamp.year == 2026
    # Both messages of one person land on one ticket.
    assert Message.objects.get(external_id="m_a2").ticket_id == first.ticket_id
    assert Ticket.objects.count() == 2


def test_instagram_changes_shape_is_accepted(client):
    """The dashboard's Test button sends entry[].changes[{field, value}] instead of messaging[]."""
    body = {"object": "instagram", "entry": [{"id": IG_ACCOUNT, "time": 1, "changes": [
        {"field": "messages", "value": text_event("ig_mid_1", "from the test button", sender=IGSID, account=IG_ACCOUNT)},
    ]}]}
    assert post_meta(client, body).status_code == 200
    message = Message.objects.get()
    assert (message.channel, message.adapter, message.identity.address) == ("instagram", "instagram", IGSID)


def test_attachments_of_every_kind_are_fetched_in_the_background(client, run_tasks, django_capture_on_commit_callbacks):
    cdn = "https://scontent.xx.fbcdn.net/v/t1/"
    event = text_event("m_media", "", attachments=[
        {"type": "image", "payload": {"url": cdn + "photo.jpg?oh=1"}},
        {"type": "file", "payload": {"url": cdn + "invoice.pdf?oh=2"}},
        {"type": "audio", "payload": {"url": cdn + "clip?oh=3"}},
        {"type": "video", "payload": {"url": cdn + "movie.mp4?oh=4"}},
        {"type": "image", "payload": {"url": cdn + "sticker.png?oh=5", "sticker_id": 369239263222822}},
        {"type": "fallback", "title": "Our shop", "payload": {"url": "https://shop.example.com/p/1"}},
    ])
    with django_capture_on_commit_callbacks(execute=True):
        assert post_meta(client, messaging(event)).status_code == 200
    message = Message.objects.get()
    assert "[Our shop] https://shop.example.com/p/1" in message.text  # a link, not a download
    attachments = list(message.attachments.order_by("pk"))
    assert [a.state for a in attachments] == [Attachment.State.PENDING] * 5
    assert [a.content_type for a in attachments] == ["image/jpeg", "application/pdf", "audio/mpeg", "video/mp4", "image/png"]
    assert attachments[2].filename.startswith("audio-1") or attachments[2].filename.startswith("audio")
    with fake_http() as cdn_api:
        cdn_api.on("GET", "/v/t1/", content=b"bytes from the CDN")
        run_tasks()
    assert len(cdn_api.requests) == 5
    assert "Authorization" not in cdn_api.requests[0].headers  # signed CDN links, no token sent
    for attachment in message.attachments.all():
        assert attachment.state == Attachment.State.STORED
        assert attachment.file.read() == b"bytes from the CDN"


def test_reply_to_threads_onto_the_ticket_of_the_quoted_message(client):
    post_meta(client, messaging(text_event("m_old", "about order 1")))
    old_ticket = Message.objects.get(external_id="m_old").ticket
    newer = Ticket.objects.create(customer=old_ticket.customer, channel="messenger", subject="another matter")
    post_meta(client, messaging(text_event("m_plain", "and something else")))
    post_meta(client, messaging(text_event("m_reply", "re: order 1", reply_to={"mid": "m_old"})))
    assert Message.objects.get(external_id="m_reply").ticket_id == old_ticket.pk
    assert Message.objects.get(external_id="m_plain").ticket_id == newer.pk  # most recent open ticket


def test_postback_and_quick_reply_are_customer_messages(client):
    post_meta(client, messaging(
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1785000000001,
         "postback": {"mid": "m_pb", "title": "Talk to a human", "payload": "HUMAN"}},
        text_event("m_qr", "Yes", quick_reply={"payload": "CONFIRM"}),
    ))
    assert Message.objects.get(external_id="m_pb").text == "Talk to a human"
    assert Message.objects.get(external_id="m_pb").meta == {"postback": "HUMAN"}
    assert Message.objects.get(external_id="m_qr").meta == {"quick_reply": "CONFIRM"}


# --- outbound and receipts ---------------------------------------------------------------------------

def test_reply_goes_to_the_send_api_with_the_page_token(client, agent, run_tasks, django_capture_on_commit_callbacks):
    post_meta(client, messaging(text_event("m_in")))
    ticket = Message.objects.get().ticket
    with fake_http() as api:
        api.on("POST", "/me/messages", json={"recipient_id": PSID, "message_id": "m_out_1"})
        reply = reply_and_deliver(ticket, agent, run_tasks, django_capture_on_commit_callbacks, text="On its way!")
    assert reply.status == Message.Status.SENT and reply.external_id == "m_out_1"
    [request] = api.requests
    assert str(request.url) == "https://graph.facebook.com/v23.0/me/messages"
    assert request.headers["Authorization"] == "Bearer test-page-token"
    assert request.json() == {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "On its way!"}}


def test_instagram_reply_uses_the_instagram_token(client, agent, run_tasks, django_capture_on_commit_callbacks):
    post_meta(client, messaging(text_event("ig_in", sender=IGSID, account=IG_ACCOUNT), obj="instagram", account=IG_ACCOUNT))
    with fake_http() as api:
        api.on("POST", "/me/messages", json={"recipient_id": IGSID, "message_id": "ig_out"})
        reply = reply_and_deliver(Message.objects.get().ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    assert reply.external_id == "ig_out" and reply.adapter == "instagram"
    assert api.requests[0].headers["Authorization"] == "Bearer test-instagram-token"
    assert api.requests[0].json()["recipient"] == {"id": IGSID}


def test_messenger_file_is_uploaded_as_multipart(client, agent, run_tasks, django_capture_on_commit_callbacks):
    from tests.factories import attachment

    post_meta(client, messaging(text_event("m_in")))
    with fake_http() as api:
        api.on("POST", "/me/messages", json={"message_id": "m_first"}, once=True)
        api.on("POST", "/me/messages", json={"message_id": "m_second"}, once=True)
        reply = reply_and_deliver(Message.objects.get().ticket, agent, run_tasks, django_capture_on_commit_callbacks,
                           text="Your invoice", attachments=[attachment("invoice.pdf", b"%PDF-1.7", content_type="application/pdf")])
    assert reply.status == Message.Status.SENT and reply.external_id == "m_first"  # the first send names it
    text_request, file_request = api.requests
    assert text_request.json()["message"] == {"text": "Your invoice"}
    assert file_request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="filedata"; filename="invoice.pdf"' in file_request.content and b"%PDF-1.7" in file_request.content
    assert b'"type": "file"' in file_request.content


def test_echo_receipts_and_read_watermark_move_status_forward(client, agent, run_tasks, django_capture_on_commit_callbacks):
    post_meta(client, messaging(text_event("m_in")))
    ticket = Message.objects.get().ticket
    with fake_http() as api:
        api.on("POST", "/me/messages", json={"message_id": "m_out_1"})
        reply = reply_and_deliver(ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    # Our own send echoed back: confirms it, is not a new customer message.
    echo = {"sender": {"id": PAGE}, "recipient": {"id": PSID}, "timestamp": 1785000000999,
            "message": {"mid": "m_out_1", "text": "Thanks!", "is_echo": True, "app_id": 1}}
    post_meta(client, messaging(echo))
    assert Message.objects.filter(direction="inbound").count() == 1
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT
    delivery = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "delivery": {"mids": ["m_out_1"], "watermark": 1}}
    post_meta(client, messaging(delivery))
    reply.refresh_from_db()
    assert reply.status == Message.Status.DELIVERED
    # Messenger read receipts carry only a watermark: everything sent before it was read.
    watermark = int((timezone.now() + timedelta(seconds=5)).timestamp() * 1000)
    post_meta(client, messaging({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "read": {"watermark": watermark}}))
    reply.refresh_from_db()
    assert reply.status == Message.Status.READ
    # A late echo or delivery never moves it back.
    post_meta(client, messaging(echo, delivery))
    reply.refresh_from_db()
    assert reply.status == Message.Status.READ
    assert Event.objects.filter(kind="message.status", message=reply).count() == 3  # sent, delivered, read


def test_echo_of_a_message_sent_elsewhere_is_ignored(client):
    echo = {"sender": {"id": PAGE}, "recipient": {"id": PSID}, "timestamp": 1,
            "message": {"mid": "m_from_page_inbox", "text": "hi", "is_echo": True}}
    assert post_meta(client, messaging(echo)).status_code == 200
    assert Message.objects.count() == 0


def test_instagram_read_names_the_message(client, agent, run_tasks, django_capture_on_commit_callbacks):
    post_meta(client, messaging(text_event("ig_in", sender=IGSID, account=IG_ACCOUNT), obj="instagram", account=IG_ACCOUNT))
    with fake_http() as api:
        api.on("POST", "/me/messages", json={"message_id": "ig_out"})
        reply = reply_and_deliver(Message.objects.get().ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    post_meta(client, messaging({"sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT}, "read": {"mid": "ig_out"}},
                                obj="instagram", account=IG_ACCOUNT))
    reply.refresh_from_db()
    assert reply.status == Message.Status.READ


# --- errors ---------------------------------------------------------------------------------------------

def graph_error(code, subcode=None, message="error", status=400):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Ax"}
    if subcode:
        error["error_subcode"] = subcode
    return {"json": {"error": error}, "status": status}


@pytest.mark.parametrize(("answer", "status", "code", "reason"), [
    (graph_error(10, 2018278, "(#10) This message is sent outside of allowed window."), "failed", "10/2018278", "24 hours"),
    (graph_error(551, 1545041, "This person isn't available right now."), "failed", "551/1545041", "isn't available"),
    (graph_error(190, message="Error validating access token"), "failed", "190", "access token"),
    (graph_error(613, message="Calls to this api have exceeded the rate limit."), "queued", "", "rate limit"),
    (graph_error(2, message="Service temporarily unavailable", status=503), "queued", "", "trouble"),
    ({"error": httpx.ReadTimeout("timed out")}, "queued", "", "in time"),
])
def test_send_errors_are_classified(client, agent, run_tasks, django_capture_on_commit_callbacks, settings,
                                    answer, status, code, reason):
    settings.HELPDESK_DELIVERY_BACKOFF_SECONDS = 3600  # a retry stays scheduled, not run now
    post_meta(client, messaging(text_event("m_in")))
    with fake_http() as api:
        api.on("POST", "/me/messages", **answer)
        reply = reply_and_deliver(Message.objects.get().ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    assert len(api.requests) == 1
    assert reply.status == status
    if status == "failed":
        assert reply.error_code == code and reason in reply.error_message
    else:
        assert reply.meta["attempts"] == 1 and reason in reply.meta["last_error"]


def test_rate_limit_retries_then_sends(client, agent, run_tasks, django_capture_on_commit_callbacks):
    post_meta(client, messaging(text_event("m_in")))
    with fake_http() as api:
        api.on("POST", "/me/messages", json={"message_id": "m_after_retry"})
        api.on("POST", "/me/messages", once=True, **graph_error(4, message="Application request limit reached"))
        reply = reply_and_deliver(Message.objects.get().ticket, agent, run_tasks, django_capture_on_commit_callbacks)
        for _ in range(20):  # the retry is due after a few milliseconds (test backoff)
            if reply.status != Message.Status.QUEUED:
                break
            run_tasks()
            reply.refresh_from_db()
    assert reply.status == Message.Status.SENT and reply.external_id == "m_after_retry"
    assert len(api.requests) == 2


def test_outside_the_window_fails_before_calling_meta(client, agent, run_tasks, django_capture_on_commit_callbacks):
    post_meta(client, messaging(text_event("m_in")))
    Identity.objects.update(last_inbound_at=timezone.now() - timedelta(hours=25))
    with fake_http() as api:
        reply = reply_and_deliver(Message.objects.get().ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    assert api.requests == []
    assert reply.status == Message.Status.FAILED and "24 hours" in reply.error_message


def test_human_agent_tag_extends_the_window_to_seven_days(client, agent, run_tasks, django_capture_on_commit_callbacks, settings):
    settings.META_HUMAN_AGENT_TAG = True
    post_meta(client, messaging(text_event("m_in")))
    identity = Identity.objects.get()
    Identity.objects.update(last_inbound_at=timezone.now() - timedelta(days=3))
    identity.refresh_from_db()
    assert get_adapter("messenger").compose_info(identity)["window_open"] is True
    with fake_http() as api:
        api.on("POST", "/me/messages", json={"message_id": "m_tagged"})
        reply = reply_and_deliver(Message.objects.get().ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    assert reply.status == Message.Status.SENT
    body = api.requests[0].json()
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_compose_info_reports_the_window(client):
    post_meta(client, messaging(text_event("m_in")))
    identity = Identity.objects.get()
    adapter = get_adapter("messenger")
    info = adapter.compose_info(identity, "hi")
    assert info["window_open"] is True and "blocked" not in info
    assert info["window_closes_at"] == (identity.last_inbound_at + timedelta(hours=24)).isoformat()
    assert "2000" in adapter.compose_info(identity, "x" * 2001)["blocked"]
    identity.last_inbound_at = timezone.now() - timedelta(days=2)
    closed = adapter.compose_info(identity)
    assert closed["window_open"] is False and "24 hours" in closed["blocked"]


def test_instagram_refuses_files_before_sending_anything(client, agent, run_tasks, django_capture_on_commit_callbacks):
    from tests.factories import attachment

    post_meta(client, messaging(text_event("ig_in", sender=IGSID, account=IG_ACCOUNT), obj="instagram", account=IG_ACCOUNT))
    with fake_http() as api:
        reply = reply_and_deliver(Message.objects.get().ticket, agent, run_tasks, django_capture_on_commit_callbacks,
                           attachments=[attachment("a.pdf", b"x", content_type="application/pdf")])
    assert api.requests == []
    assert reply.status == Message.Status.FAILED and "link" in reply.error_message


def test_payload_parses_from_the_stored_copy_on_replay(client):
    """What replay_inbound does: the stored bytes parse again to the same (idempotent) result."""
    post_meta(client, messaging(text_event("m_replay")))
    payload = InboundPayload.objects.get()
    services.process_request(payload)
    assert Message.objects.count() == 1
    assert json.loads(bytes(payload.body))["object"] == "page"
