"""The widget's HTTP side: the script, the demo page, session start, uploads and downloads."""

import gzip
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from livechat import visitors
from livechat.models import VisitorSession
from tests.livechat_helpers import ORIGIN, make_inbox, make_visitor
from tickets.models import Attachment, Message

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
       b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def inbox():
    return make_inbox(max_upload_bytes=1024)


def start(client, body, origin=ORIGIN, key="shop"):
    return client.post(f"/chat/api/{key}/session/", json.dumps(body), content_type="application/json",
                       headers={"Origin": origin} if origin else {})


def test_widget_js_is_served_small_and_gzipped(client):
    response = client.get("/chat/widget.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Content-Encoding"] == "gzip"
    body = response.content
    assert len(body) < 40 * 1024, f"widget.js is {len(body)} bytes gzipped"
    assert b"attachShadow" in gzip.decompress(body)


def test_demo_page_embeds_the_widget_with_one_tag(client, inbox):
    response = client.get("/chat/demo/?inbox=shop")
    assert response.status_code == 200
    assert b'src="/chat/widget.js" data-inbox="shop"' in response.content


def test_session_start_gives_a_token_and_config_with_cors_for_allowed_origins(client, inbox):
    response = start(client, {})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    data = response.json()
    session = visitors.session_for_token(data["token"], "shop")
    assert session.address.startswith("visitor:shop:")
    assert data["config"]["online"] is False and data["config"]["max_upload_bytes"] == 1024
    # The same token resumes the same session (the token handed back may be re-signed in a
    # later second: compare the session it names, not its bytes).
    resumed = start(client, {"token": data["token"]}).json()["token"]
    assert visitors.session_for_token(resumed, "shop").pk == session.pk
    assert VisitorSession.objects.count() == 1


def test_preflight_and_foreign_origins(client, inbox):
    preflight = client.options("/chat/api/shop/session/", headers={"Origin": ORIGIN})
    assert preflight.status_code == 204
    assert "Authorization" in preflight["Access-Control-Allow-Headers"]
    foreign = start(client, {}, origin="https://evil.example.net")
    assert foreign.status_code == 403
    assert "Access-Control-Allow-Origin" not in foreign
    assert VisitorSession.objects.count() == 0


def test_a_verified_user_id_joins_one_address_across_devices(client, inbox):
    good = visitors.user_hash(inbox, "u-42")
    first = start(client, {"user_id": "u-42", "user_hash": good}).json()["token"]
    second = start(client, {"user_id": "u-42", "user_hash": good.upper()}).json()["token"]
    a, b = visitors.session_for_token(first), visitors.session_for_token(second)
    assert a.pk != b.pk and a.address == b.address == "user:shop:u-42"
    forged = start(client, {"user_id": "u-42", "user_hash": "0" * 64})
    assert forged.status_code == 403
    # An anonymous token is not reused once the page says a user is logged in, and vice versa.
    anon = start(client, {}).json()["token"]
    logged_in = start(client, {"token": anon, "user_id": "u-42", "user_hash": good}).json()["token"]
    assert visitors.session_for_token(logged_in).address == "user:shop:u-42"
    logged_out = start(client, {"token": logged_in}).json()["token"]
    assert visitors.session_for_token(logged_out).address.startswith("visitor:")


def upload(client, token, name, content, content_type, client_id="u-1", key="shop"):
    return client.post(f"/chat/api/{key}/upload/",
                       {"file": SimpleUploadedFile(name, content, content_type=content_type),
                        "client_id": client_id},
                       headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN})


def test_upload_within_limits_becomes_a_message_with_an_attachment(client, inbox):
    session, token = make_visitor(inbox)
    response = upload(client, token, "../../shot.png", PNG, "image/png")
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert message.identity.address == session.address
    attachment = message.attachments.get()
    assert attachment.filename == "shot.png" and attachment.size == len(PNG)
    # Idempotent on the client id.
    assert upload(client, token, "shot.png", PNG, "image/png").json()["id"] == message.pk
    assert Attachment.objects.count() == 1

    download = client.get(f"/chat/api/shop/attachments/{attachment.pk}/",
                          headers={"Authorization": f"Bearer {token}"})
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]


def test_uploads_over_the_limits_get_clear_errors_and_store_nothing(client, inbox):
    _, token = make_visitor(inbox)
    too_big = upload(client, token, "big.png", b"x" * 2048, "image/png")
    assert too_big.status_code == 413 and "too large" in too_big.json()["error"]
    wrong = upload(client, token, "tool.exe", b"MZ...", "application/octet-stream")
    assert wrong.status_code == 415 and "cannot be sent" in wrong.json()["error"]
    disguised = upload(client, token, "page.html", b"<script>", "image/png")
    assert disguised.status_code == 415
    assert Message.objects.count() == 0


def test_http_calls_need_a_valid_token(client, inbox):
    response = client.post("/chat/api/shop/upload/", {"client_id": "x"}, headers={"Origin": ORIGIN})
    assert response.status_code == 401
    response = client.post("/chat/api/shop/upload/", {"client_id": "x"},
                           headers={"Authorization": "Bearer nonsense", "Origin": ORIGIN})
    assert response.status_code == 401
