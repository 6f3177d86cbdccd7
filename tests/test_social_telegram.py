"""Telegram: secret token, update dedupe, edits, photos and documents via getFile, sends via
sendMessage/sendDocument, error classification, and the telegram_set_webhook command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.fakes.social import fake_http, post_telegram, reply_and_deliver
from tickets.models import Attachment, Event, InboundPayload, Message

pytestmark = pytest.mark.django_db

BOT = "/bot123456:test-bot-token"
CHAT = 1111111


def update(update_id, message_id, text="hello", kind="message", **fields):
    message = {"message_id": message_id, "date": 1785000000, "text": text,
               "from": {"id": CHAT, "is_bot": False, "first_name": "Test", "last_name": "Lastname", "username": "Test"},
               "chat": {"id": CHAT, "first_name": "Test", "type": "private"}, **fields}
    if text is None:
        del message["text"]
    return {"update_id": update_id, kind: message}


def ok(result):
    return {"json": {"ok": True, "result": result}}




def test_a_retried_update_is_stored_once(client):
    for _ in range(3):
        assert post_telegram(client, update(500, 10)).status_code == 200
    message = Message.objects.get()
    assert (message.external_id, message.identity.address, message.author_name) == (f"{CHAT}:10", str(CHAT), "Test Lastname")
    assert message.meta["update_id"] == 500 and message.meta["chat_type"] == "private"
    assert InboundPayload.objects.count() == 3
    assert Event.objects.filter(kind="message.created").count() == 1


def test_an_edit_changes_the_original_once_and_is_announced(client):
    post_telegram(client, update(500, 10, "My order is 4512"))
    edit = update(501, 10, "My order is 4521", kind="edited_message", edit_date=1785000060)
    for _ in range(2):  # a retried edit is applied once
        assert post_telegram(client, edit).status_code == 200
    message = Message.objects.get()
    assert message.text == "My order is 4521"
    assert message.meta["edits"][0]["previous_text"] == "My order is 4512"
    assert len(message.meta["edits"]) == 1
    assert Event.objects.filter(kind="message.updated", message=message).count() == 1


def test_bots_and_other_update_kinds_are_ignored(client):
    bot = update(600, 1)
    bot["message"]["from"]["is_bot"] = True
    assert post_telegram(client, bot).status_code == 200
    assert post_telegram(client, {"update_id": 601, "callback_query": {"id": "1", "data": "x"}}).status_code == 200
    assert Message.objects.count() == 0


def test_malformed_update_is_400_and_kept(client):
    assert post_telegram(client, {"message": {"text": "no update id"}}).status_code == 400
    assert post_telegram(client, update(700, None)).status_code == 400
    assert InboundPayload.objects.filter(state=InboundPayload.State.FAILED).count() == 2


def test_photo_and_document_are_fetched_with_getfile(client, run_tasks, django_capture_on_commit_callbacks):
    photo = [{"file_id": "small-id", "file_unique_id": "u1", "width": 90, "height": 90, "file_size": 1000},
             {"file_id": "big-id", "file_unique_id": "u2", "width": 1280, "height": 1280, "file_size": 90000}]
    with django_capture_on_commit_callbacks(execute=True):
        post_telegram(client, update(800, 20, None, photo=photo, caption="the damage"))
        post_telegram(client, update(801, 21, None, document={"file_id": "doc-id", "file_unique_id": "u3",
                                                               "file_name": "invoice.pdf", "mime_type": "application/pdf"}))
    photo_message = Message.objects.get(external_id=f"{CHAT}:20")
    assert photo_message.text == "the damage"
    assert photo_message.attachments.get().content_type == "image/jpeg"
    with fake_http() as api:
        api.on("POST", f"{BOT}/getFile", **ok({"file_id": "big-id", "file_path": "photos/file_1.jpg"}), once=True)
        api.on("POST", f"{BOT}/getFile", **ok({"file_id": "doc-id", "file_path": "documents/file_2.pdf"}), once=True)
        api.on("GET", f"/file{BOT}/photos/file_1.jpg", content=b"jpeg")
        api.on("GET", f"/file{BOT}/documents/file_2.pdf", content=b"%PDF")
        run_tasks()
    assert [r.json() for r in api.sent("getFile")] == [{"file_id": "big-id"}, {"file_id": "doc-id"}]  # the largest size
    stored = {a.filename: a.file.read() for a in Attachment.objects.all()}
    assert stored == {"photo-u2.jpg": b"jpeg", "invoice.pdf": b"%PDF"}


def test_a_file_too_big_for_the_bot_api_fails_clearly(client, run_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_telegram(client, update(900, 30, None, document={"file_id": "huge", "file_name": "video.mov"}))
    with fake_http() as api:
        api.on("POST", f"{BOT}/getFile", status=400, json={"ok": False, "error_code": 400, "description": "Bad Request: file is too big"})
        run_tasks()
    attachment = Attachment.objects.get()
    assert attachment.state == Attachment.State.FAILED and "file is too big" in attachment.error


def test_reply_with_a_file_uses_senddocument_with_the_text_as_caption(client, agent, run_tasks, django_capture_on_commit_callbacks):
    from tests.factories import attachment

    post_telegram(client, update(1000, 40))
    with fake_http() as api:
        api.on("POST", f"{BOT}/sendDocument", **ok({"message_id": 41, "chat": {"id": CHAT}}))
        reply = reply_and_deliver(Message.objects.get().ticket, agent, run_tasks, django_capture_on_commit_callbacks,
                     text="Your label", attachments=[attachment("label.pdf", b"%PDF-1.4", content_type="application/pdf")])
    assert reply.status == Message.Status.SENT and reply.external_id == f"{CHAT}:41"
    [request] = api.requests
    assert str(request.url) == f"https://api.telegram.org{BOT}/sendDocument"
    assert b'name="chat_id"\r\n\r\n1111111' in request.content
    assert b'name="caption"\r\n\r\nYour label' in request.content
    assert b'name="document"; filename="label.pdf"' in request.content and b"%PDF-1.4" in request.content


def test_a_long_text_goes_first_then_the_file(client, agent, run_tasks, django_capture_on_commit_callbacks):
    from tests.factories import attachment

    post_telegram(client, update(1100, 50))
    long_text = "word " * 300  # over the 1024-character caption limit
    with fake_http() as api:
        api.on("POST", f"{BOT}/sendMessage", **ok({"message_id": 51, "chat": {"id": CHAT}}))
        api.on("POST", f"{BOT}/sendDocument", **ok({"message_id": 52, "chat": {"id": CHAT}}))
        reply = reply_and_deliver(Message.objects.get().ticket, agent, run_tasks, django_capture_on_commit_callbacks,
                     text=long_text, attachments=[attachment("a.txt", b"x", content_type="text/plain")])
    assert [r.path.rsplit("/", 1)[1] for r in api.requests] == ["sendMessage", "sendDocument"]
    assert b'name="caption"' not in api.requests[1].content
    assert reply.external_id == f"{CHAT}:51"


@pytest.mark.parametrize(("answer", "outcome", "reason"), [
    ({"status": 403, "json": {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}},
     "failed", "blocked"),
    ({"status": 400, "json": {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}},
     "failed", "chat not found"),
    ({"status": 429, "json": {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                              "parameters": {"retry_after": 7}}}, "queued", "Too Many Requests"),
    ({"status": 502, "content": b"<html>Bad Gateway</html>"}, "queued", "trouble"),
])
def test_send_errors_are_classified(client, agent, run_tasks, django_capture_on_commit_callbacks, settings, answer, outcome, reason):
    settings.HELPDESK_DELIVERY_BACKOFF_SECONDS = 3600
    post_telegram(client, update(1200, 60))
    with fake_http() as api:
        api.on("POST", f"{BOT}/sendMessage", **answer)
        reply = reply_and_deliver(Message.objects.get().ticket, agent, run_tasks, django_capture_on_commit_callbacks)
    assert reply.status == outcome
    shown = reply.error_message if outcome == "failed" else reply.meta["last_error"]
    assert reason in shown
    assert "test-bot-token" not in shown


def test_set_webhook_registers_our_url_and_secret(settings):
    settings.HELPDESK_PUBLIC_URL = "https://help.example.com"
    out = StringIO()
    with fake_http() as api:
        api.on("POST", f"{BOT}/setWebhook", **ok(True))
        call_command("telegram_set_webhook", "--drop-pending-updates", stdout=out)
    [request] = api.requests
    assert request.json() == {"url": "https://help.example.com/channels/telegram/webhook/",
                              "secret_token": "test-telegram-secret",
                              "allowed_updates": ["message", "edited_message", "callback_query"], "drop_pending_updates": True}
    assert "help.example.com" in out.getvalue()


def test_set_webhook_reports_problems(settings):
    settings.HELPDESK_PUBLIC_URL = "http://127.0.0.1:8000"
    with pytest.raises(CommandError, match="HTTPS"):
        call_command("telegram_set_webhook")
    with fake_http() as api:
        api.on("POST", f"{BOT}/setWebhook", status=401, json={"ok": False, "error_code": 401, "description": "Unauthorized"})
        with pytest.raises(CommandError, match="Unauthorized"):
            call_command("telegram_set_webhook", "--url", "https://help.example.com/hook/")
    settings.TELEGRAM_SECRET_TOKEN = ""
    with pytest.raises(CommandError, match="TELEGRAM_SECRET_TOKEN"):
        call_command("telegram_set_webhook", "--url", "https://help.example.com/hook/")
