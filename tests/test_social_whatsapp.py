"""WhatsApp through the Cloud API: identities shared with Twilio's WhatsApp, media, receipts,
the 24-hour window and approved templates, and the requests sent to the Graph API."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.fakes.social import fake_http, post_meta, reply_and_deliver
from tickets.channels import get_adapter
from tickets.models import Attachment, Customer, Identity, Message, Ticket

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "social"
WA_ID, PHONE_ID = "14155550123", "106540352242922"
SEND_URL = f"https://graph.facebook.com/v23.0/{PHONE_ID}/messages"


def cloud_fixture() -> bytes:
    return (FIXTURES / "whatsapp_cloud_webhook_text.json").read_bytes()


def value(messages=(), statuses=(), contacts=None):
    body = {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID}}
    if messages:
        body["contacts"] = contacts if contacts is not None else [{"profile": {"name": "Jane Customer"}, "wa_id": WA_ID}]
        body["messages"] = list(messages)
    if statuses:
        body["statuses"] = list(statuses)
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": body, "field": "messages"}]}]}


def wa_message(mid, kind="text", sender=WA_ID, **fields):
    content = fields.pop("content", {"body": "hello"} if kind == "text" else {})
    return {"from": sender, "id": mid, "timestamp": "1785000000", "type": kind, kind: content, **fields}




def sent_answer(wamid):
    return {"messaging_product": "whatsapp", "contacts": [{"input": WA_ID, "wa_id": WA_ID}], "messages": [{"id": wamid}]}


# --- one customer across Twilio and the Cloud API ------------------------------------------------

def post_twilio_whatsapp(client):
    body = (FIXTURES / "twilio_whatsapp_inbound_media.txt").read_bytes()
    return client.generic("POST", "/channels/twilio/whatsapp/", body,
                          content_type="application/x-www-form-urlencoded",
                          headers={"X-Twilio-Signature": "uaR/wiM2ndSX5gmWxBlrBddg+8Y="})


@pytest.mark.parametrize("twilio_first", [True, False])
def test_twilio_and_cloud_api_from_one_number_are_one_customer_with_one_history(client, twilio_first):
    """The real Twilio WhatsApp adapter (channels_sms) and ours, with the shared fixtures."""
    cloud = lambda: client.generic("POST", "/channels/meta/webhook/", cloud_fixture(), content_type="application/json",  # noqa: E731
                                   headers={"X-Hub-Signature-256": "sha256=bfea65a3846005e293e1c521780bcb6b85de3ca0d878043609ce4e3ac34011cb"})
    steps = [post_twilio_whatsapp, lambda c: cloud()] if twilio_first else [lambda c: cloud(), post_twilio_whatsapp]
    for step in steps:
        assert step(client).status_code in (200, 204)
    identity = Identity.objects.get(channel="whatsapp")
    assert identity.address == "+14155550123" and identity.display_name == "Jane Customer"
    assert Customer.objects.count() == 1
    history = list(Message.objects.filter(customer=identity.customer).order_by("pk"))
    assert {m.adapter for m in history} == {"whatsapp", "whatsapp_cloud"}
    assert {m.identity_id for m in history} == {identity.pk}
    assert Ticket.objects.count() == 1  # the open WhatsApp conversation continues


def test_reply_goes_out_through_the_provider_the_customer_last_used(client, agent, run_tasks, django_capture_on_commit_callbacks):
    post_twilio_whatsapp(client)
    post_meta(client, value([wa_message("wamid.cloud1")]))
    ticket = Ticket.objects.get()
    with fake_http() as api:
        api.on("POST", f"/{PHONE_ID}/messages", json=sent_answer("wamid.out1"))
        reply = reply_and_deliver(ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    assert reply.adapter == "whatsapp_cloud" and reply.external_id == "wamid.out1"
    [request] = api.requests
    assert str(request.url) == SEND_URL
    assert request.headers["Authorization"] == "Bearer test-whatsapp-token"
    assert request.json() == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                              "type": "text", "text": {"body": "Thanks!", "preview_url": False}}


# --- inbound content ------------------------------------------------------------------------------

def test_media_is_fetched_in_two_steps_with_the_token(client, run_tasks, django_capture_on_commit_callbacks):
    image = wa_message("wamid.img", "image", content={"id": "1111", "mime_type": "image/jpeg", "sha256": "x", "caption": "Broken box"})
    doc = wa_message("wamid.doc", "document", content={"id": "2222", "mime_type": "application/pdf", "filename": "receipt.pdf"})
    voice = wa_message("wamid.voice", "audio", content={"id": "3333", "mime_type": "audio/ogg; codecs=opus", "voice": True})
    video = wa_message("wamid.video", "video", content={"id": "4444", "mime_type": "video/mp4"})
    sticker = wa_message("wamid.sticker", "sticker", content={"id": "5555", "mime_type": "image/webp", "animated": False})
    with django_capture_on_commit_callbacks(execute=True):
        assert post_meta(client, value([image, doc, voice, video, sticker])).status_code == 200
    assert Message.objects.get(external_id="wamid.img").text == "Broken box"
    names = dict(Attachment.objects.values_list("message__external_id", "filename"))
    assert names["wamid.doc"] == "receipt.pdf"
    assert Attachment.objects.get(message__external_id="wamid.voice").content_type == "audio/ogg"
    with fake_http() as api:
        for media_id in ("1111", "2222", "3333", "4444", "5555"):
            api.on("GET", f"/v23.0/{media_id}", json={"url": f"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid={media_id}",
                                                       "mime_type": "image/jpeg", "id": media_id})
        api.on("GET", "/whatsapp_business/attachments/", content=b"\xff\xd8 jpeg bytes")
        run_tasks()
    assert Attachment.objects.filter(state=Attachment.State.STORED).count() == 5
    assert all(r.headers["Authorization"] == "Bearer test-whatsapp-token" for r in api.requests)
    assert len(api.requests) == 10


def test_expired_media_fails_the_attachment_not_the_message(client, run_tasks, django_capture_on_commit_callbacks):
    image = wa_message("wamid.old", "image", content={"id": "9999", "mime_type": "image/jpeg"})
    with django_capture_on_commit_callbacks(execute=True):
        post_meta(client, value([image]))
    with fake_http() as api:
        api.on("GET", "/v23.0/9999", status=404,
               json={"error": {"message": "Unsupported get request", "code": 100, "error_subcode": 33}})
        run_tasks()
    attachment = Attachment.objects.get()
    assert attachment.state == Attachment.State.FAILED and "Unsupported get request" in attachment.error
    assert Message.objects.count() == 1


def test_other_message_kinds_become_readable_text(client):
    post_meta(client, value([
        wa_message("wamid.loc", "location", content={"latitude": 52.37, "longitude": 4.89, "name": "Shop", "address": "Main St 1"}),
        wa_message("wamid.btn", "interactive", content={"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes please"}}),
        wa_message("wamid.react", "reaction", content={"message_id": "wamid.loc", "emoji": "👍"}),
        wa_message("wamid.unk", "unsupported", errors=[{"code": 131051, "title": "Message type unknown"}]),
        wa_message("wamid.ctx", content={"body": "about that"}, context={"from": WA_ID, "id": "wamid.loc"}),
    ]))
    texts = dict(Message.objects.values_list("external_id", "text"))
    assert "Shop, Main St 1 (52.37, 4.89)" in texts["wamid.loc"]
    assert texts["wamid.btn"] == "Yes please"
    assert "wamid.react" not in texts  # an emoji on a message is not a new message
    assert "unsupported" in texts["wamid.unk"]
    assert Message.objects.get(external_id="wamid.btn").meta["choice"] == "yes"


def test_username_users_without_a_phone_get_a_bsuid_identity_and_link_later(client, agent, run_tasks,
                                                                             django_capture_on_commit_callbacks):
    bsuid = "US.13491208655302741918"
    hidden = {"from_user_id": bsuid, "id": "wamid.hidden", "timestamp": "1785000000", "type": "text", "text": {"body": "hi"}}
    post_meta(client, value([hidden], contacts=[{"profile": {"name": "Jane"}, "user_id": bsuid}]))
    identity = Identity.objects.get()
    assert (identity.channel, identity.address) == ("whatsapp_bsuid", bsuid)
    with fake_http() as api:
        api.on("POST", f"/{PHONE_ID}/messages", json=sent_answer("wamid.to_bsuid"))
        reply = reply_and_deliver(Ticket.objects.get(), agent, run_tasks, django_capture_on_commit_callbacks)
    assert reply.status == Message.Status.SENT
    assert api.requests[0].json()["recipient"] == bsuid and "to" not in api.requests[0].json()
    # Later the same user writes with both ids: the phone identity joins the same customer.
    post_meta(client, value([wa_message("wamid.both", from_user_id=bsuid)],
                            contacts=[{"profile": {"name": "Jane"}, "wa_id": WA_ID, "user_id": bsuid}]))
    phone = Identity.objects.get(channel="whatsapp")
    assert phone.customer_id == identity.customer_id
    assert Message.objects.get(external_id="wamid.both").meta["whatsapp_user_id"] == bsuid


# --- receipts ---------------------------------------------------------------------------------------

def test_statuses_move_forward_and_failures_carry_the_reason(client, agent, run_tasks, django_capture_on_commit_callbacks):
    post_meta(client, value([wa_message("wamid.in")]))
    ticket = Ticket.objects.get()
    with fake_http() as api:
        api.on("POST", f"/{PHONE_ID}/messages", json=sent_answer("wamid.out1"), once=True)
        api.on("POST", f"/{PHONE_ID}/messages", json=sent_answer("wamid.out2"), once=True)
        first = reply_and_deliver(ticket, agent, run_tasks, django_capture_on_commit_callbacks, text="one")
        second = reply_and_deliver(ticket, agent, run_tasks, django_capture_on_commit_callbacks, text="two")
    status = lambda mid, s, **kw: {"id": mid, "status": s, "timestamp": "1785000100", "recipient_id": WA_ID, **kw}  # noqa: E731
    post_meta(client, value(statuses=[status("wamid.out1", "delivered"), status("wamid.out1", "read"),
                                      status("wamid.out1", "delivered"),
                                      status("wamid.out2", "failed", errors=[{"code": 131047, "title": "Re-engagement message"}])]))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Message.Status.READ
    assert second.status == Message.Status.FAILED and second.error_code == "131047"
    assert "template" in second.error_message


# --- outbound: window, templates, errors --------------------------------------------------------------

def test_outside_the_window_free_text_fails_and_a_template_goes_out(client, agent, run_tasks, django_capture_on_commit_callbacks):
    post_meta(client, value([wa_message("wamid.in")]))
    Identity.objects.update(last_inbound_at=timezone.now() - timedelta(hours=30))
    identity = Identity.objects.get()
    info = get_adapter("whatsapp_cloud").compose_info(identity)
    assert info["window_open"] is False and "template" in info["blocked"]
    assert [t["id"] for t in info["templates"]] == ["order_update"]
    ticket = Ticket.objects.get()
    with fake_http() as api:
        api.on("POST", f"/{PHONE_ID}/messages", json=sent_answer("wamid.tpl"))
        refused = reply_and_deliver(ticket, agent, run_tasks, django_capture_on_commit_callbacks, text="Any news?")
        assert refused.status == Message.Status.FAILED and "template" in refused.error_message
        assert api.requests == []
        template = {"template": {"id": "order_update", "language": "en_US", "variables": {"2": "4521", "1": "Jane"}}}
        sent = reply_and_deliver(ticket, agent, run_tasks, django_capture_on_commit_callbacks, text="", meta=template)
    assert sent.status == Message.Status.SENT and sent.external_id == "wamid.tpl"
    assert api.requests[0].json() == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, "type": "template",
        "template": {"name": "order_update", "language": {"code": "en_US"},
                     "components": [{"type": "body", "parameters": [{"type": "text", "text": "Jane"},
                                                                    {"type": "text", "text": "4521"}]}]}}


def test_unknown_template_is_refused(client, agent, run_tasks, django_capture_on_commit_callbacks):
    post_meta(client, value([wa_message("wamid.in")]))
    with fake_http() as api:
        reply = reply_and_deliver(Ticket.objects.get(), agent, run_tasks, django_capture_on_commit_callbacks, text="",
                         meta={"template": {"id": "made_up", "variables": {}}})
    assert api.requests == [] and reply.status == Message.Status.FAILED and reply.error_code == "unknown_template"


def test_named_template_variables_carry_their_names():
    body = get_adapter("whatsapp_cloud").template_body({"id": "order_update", "variables": {"name": "Jane", "order": "7"}})
    assert body["components"][0]["parameters"] == [
        {"type": "text", "text": "Jane", "parameter_name": "name"}, {"type": "text", "text": "7", "parameter_name": "order"}]
    assert body["language"] == {"code": "en_US"}  # from the configured template


@pytest.mark.parametrize(("error", "http_status", "outcome"), [
    ({"code": 131047, "message": "Re-engagement message"}, 400, "failed"),
    ({"code": 130429, "message": "Rate limit hit"}, 400, "queued"),
    ({"code": 131026, "message": "Message undeliverable"}, 400, "failed"),
    ({"code": 1, "message": "An unknown error occurred"}, 500, "queued"),
])
def test_cloud_api_errors_are_classified(client, agent, run_tasks, django_capture_on_commit_callbacks, settings,
                                         error, http_status, outcome):
    settings.HELPDESK_DELIVERY_BACKOFF_SECONDS = 3600
    post_meta(client, value([wa_message("wamid.in")]))
    with fake_http() as api:
        api.on("POST", f"/{PHONE_ID}/messages", status=http_status, json={"error": {**error, "type": "OAuthException"}})
        reply = reply_and_deliver(Ticket.objects.get(), agent, run_tasks, django_capture_on_commit_callbacks)
    assert reply.status == outcome
    if outcome == "failed":
        assert reply.error_code == str(error["code"])
    if error["code"] == 131047:
        assert "template" in reply.error_message


def test_a_file_is_uploaded_then_sent_as_a_document(client, agent, run_tasks, django_capture_on_commit_callbacks):
    from tests.factories import attachment

    post_meta(client, value([wa_message("wamid.in")]))
    with fake_http() as api:
        api.on("POST", f"/{PHONE_ID}/media", json={"id": "media-77"})
        api.on("POST", f"/{PHONE_ID}/messages", json=sent_answer("wamid.text"), once=True)
        api.on("POST", f"/{PHONE_ID}/messages", json=sent_answer("wamid.doc"), once=True)
        reply = reply_and_deliver(Ticket.objects.get(), agent, run_tasks, django_capture_on_commit_callbacks, text="Your label",
                         attachments=[attachment("label.pdf", b"%PDF", content_type="application/pdf")])
    assert reply.status == Message.Status.SENT and reply.external_id == "wamid.text"
    text, upload, document = api.requests
    assert text.json()["text"]["body"] == "Your label"
    assert b'name="messaging_product"' in upload.content and b"%PDF" in upload.content
    assert document.json()["document"] == {"id": "media-77", "filename": "label.pdf"}


def test_wa_id_is_stored_as_e164_and_the_raw_message_kept(client):
    post_meta(client, json.loads(cloud_fixture()))
    message = Message.objects.get()
    assert message.identity.address == "+14155550123" and message.author_name == "Jane Customer"
    assert message.meta["whatsapp_user_id"] == "US.13491208655302741918"
    assert message.meta["phone_number_id"] == PHONE_ID
