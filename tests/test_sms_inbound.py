"""Twilio inbound: identities, one customer across SMS and WhatsApp, media in the background,
STOP/START/HELP, idempotency tokens and malformed posts."""

import base64
import time
from pathlib import Path

import pytest
from django.conf import settings

from channels_sms.models import WebhookReceipt
from tests.fakes.twilio import Reply, fake_twilio, form_body, load_captured, sign
from tickets import services
from tickets.channels import get_adapter
from tickets.models import Attachment, Customer, Identity, InboundPayload, Message
from tickets.services import ReplyRefused

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "sms"
FORM = "application/x-www-form-urlencoded"
SMS_URL, WA_URL = "/channels/twilio/sms/", "/channels/twilio/whatsapp/"


def post_captured(client, name, **headers):
    captured = load_captured(FIXTURES / name)
    return client.post(captured.path, captured.body, content_type=FORM,
                       headers={"X-Twilio-Signature": captured.signature, **headers})


def post_signed(client, path, params, **headers):
    """A Twilio-style post signed with the test auth token over the public URL."""
    signature = sign(settings.HELPDESK_PUBLIC_URL + path, params, settings.TWILIO_AUTH_TOKEN)
    return client.post(path, form_body(params), content_type=FORM,
                       headers={"X-Twilio-Signature": signature, **headers})


def sms_params(sid, body, sender="+14155550123", to="+15005550006", **extra):
    return {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": settings.TWILIO_ACCOUNT_SID,
            "From": sender, "To": to, "Body": body, "NumMedia": "0", "ApiVersion": "2010-04-01", **extra}


def run_until(run_tasks, condition, rounds=20):
    """Run due tasks until `condition()` holds; retries are scheduled a few ms ahead."""
    for _ in range(rounds):
        run_tasks()
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_sms_answers_empty_twiml_and_keeps_the_number_the_customer_wrote_to(client):
    response = post_captured(client, "twilio_sms_inbound.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response />")
    message = Message.objects.get()
    assert message.channel == "sms" and message.adapter == "sms"
    assert message.identity.address == "+14155550123"
    assert message.meta["twilio"]["to"] == "+15005550006"
    assert message.ticket.subject.startswith("Hi, my order #4521")
    assert InboundPayload.objects.get().state == InboundPayload.State.PROCESSED


def test_whatsapp_identity_is_the_waid_in_e164_with_the_profile_name(client):
    assert post_captured(client, "twilio_whatsapp_inbound_media.txt").status_code == 200
    message = Message.objects.get()
    assert (message.identity.channel, message.identity.address) == ("whatsapp", "+14155550123")
    assert message.identity.display_name == "Jane Customer"
    assert message.author_name == "Jane Customer"
    assert message.meta["twilio"]["to"] == "+14155238886"  # stored without the whatsapp: prefix


@pytest.mark.parametrize("first", ["twilio_sms_inbound.txt", "twilio_whatsapp_inbound_media.txt"])
def test_sms_and_whatsapp_of_one_number_are_one_customer(client, first):
    second = {"twilio_sms_inbound.txt": "twilio_whatsapp_inbound_media.txt"}.get(first, "twilio_sms_inbound.txt")
    post_captured(client, first)
    post_captured(client, second)
    assert Customer.objects.count() == 1
    assert set(Identity.objects.values_list("channel", "address")) == {
        ("sms", "+14155550123"), ("whatsapp", "+14155550123")}
    assert Message.objects.count() == 2


def test_unknown_extra_parameters_are_accepted_and_signed_over(client):
    params = sms_params("SM" + "a" * 32, "hello", BrandNewTwilioField="surprise", ReferralNumMedia="0")
    assert post_signed(client, SMS_URL, params).status_code == 200
    assert Message.objects.get().text == "hello"


def test_signature_is_checked_against_the_public_url_not_the_request_host(client, settings):
    params = sms_params("SM" + "b" * 32, "hello")
    signature = sign("http://testserver" + SMS_URL, params, settings.TWILIO_AUTH_TOKEN)
    response = client.post(SMS_URL, form_body(params), content_type=FORM, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert InboundPayload.objects.count() == 0
    settings.HELPDESK_PUBLIC_URL = "http://testserver"
    response = client.post(SMS_URL, form_body(params), content_type=FORM, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_a_post_without_message_sid_is_400_and_kept_for_replay(client):
    params = {"From": "+14155550123", "To": "+15005550006", "Body": "no sid"}
    response = post_signed(client, SMS_URL, params)
    assert response.status_code == 400
    payload = InboundPayload.objects.get()
    assert payload.state == InboundPayload.State.FAILED and "MessageSid" in payload.error
    assert Message.objects.count() == 0


def test_an_unreadable_sender_is_400_not_a_crash(client):
    response = post_signed(client, SMS_URL, sms_params("SM" + "c" * 32, "hi", sender="not-a-number"))
    assert response.status_code == 400
    assert Message.objects.count() == 0


# --- idempotency -------------------------------------------------------------------------------

def test_a_resend_with_the_same_idempotency_token_is_stored_once(client):
    token = "b0a2fa7c-5c5c-4c7f-8a3f-25b3b1a0f6a1"
    for _ in range(3):
        response = post_captured(client, "twilio_sms_inbound.txt", **{"I-Twilio-Idempotency-Token": token})
        assert response.status_code == 200
        assert response.content.decode().endswith("<Response />")
    assert InboundPayload.objects.count() == 1
    assert Message.objects.count() == 1
    assert WebhookReceipt.objects.filter(token=token).exists()


def test_the_token_is_recorded_in_the_processing_transaction_not_a_second_write(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for index, headers in enumerate(({}, {"I-Twilio-Idempotency-Token": "counted"})):
        with CaptureQueriesContext(connection) as queries:
            post_signed(client, SMS_URL, sms_params(f"SMcount{index}", "hello", sender=f"+1415555010{index}"), **headers)
        counts.append([q["sql"] for q in queries])
    extra = counts[1][len(counts[0]):]
    # The resend check and one INSERT beside the payload's mark: no read-then-insert of its own.
    assert len(counts[1]) == len(counts[0]) + 2, extra
    insert = next(i for i, sql in enumerate(counts[1]) if "channels_sms_webhookreceipt" in sql and "INSERT" in sql)
    mark = next(i for i, sql in enumerate(counts[1]) if sql.startswith("UPDATE") and "tickets_inboundpayload" in sql)
    assert insert == mark + 1  # same transaction as the payload's "processed"
    assert WebhookReceipt.objects.filter(token="counted").count() == 1


def test_a_replay_records_the_token_and_a_token_recorded_meanwhile_is_no_error(client, monkeypatch):
    from tickets.services import provider_requests as webhook_services

    real_apply = webhook_services._apply
    monkeypatch.setattr(webhook_services, "_apply", lambda item: (_ for _ in ()).throw(RuntimeError("db down")))
    with pytest.raises(RuntimeError, match="db down"):
        post_signed(client, SMS_URL, sms_params("SMreplay", "hello"), **{"I-Twilio-Idempotency-Token": "later"})
    monkeypatch.setattr(webhook_services, "_apply", real_apply)
    payload = InboundPayload.objects.get(state=InboundPayload.State.FAILED)
    services.process_request(payload)
    assert WebhookReceipt.objects.filter(token="later").count() == 1
    services.process_request(payload)  # as if a resend had recorded it in the meantime
    assert WebhookReceipt.objects.filter(token="later").count() == 1
    assert Message.objects.filter(external_id="SMreplay").count() == 1


def test_a_new_token_for_the_same_message_sid_still_gives_one_message(client):
    for token in ("token-1", "token-2"):
        post_captured(client, "twilio_sms_inbound.txt", **{"I-Twilio-Idempotency-Token": token})
    assert InboundPayload.objects.count() == 2
    assert Message.objects.count() == 1


def test_a_known_token_does_not_excuse_a_bad_signature(client):
    WebhookReceipt.objects.create(token="seen")
    captured = load_captured(FIXTURES / "twilio_sms_inbound.txt")
    response = client.post(SMS_URL, captured.body, content_type=FORM,
                           headers={"X-Twilio-Signature": "forged=", "I-Twilio-Idempotency-Token": "seen"})
    assert response.status_code == 403


def test_a_failed_first_attempt_is_processed_again_on_resend(client, monkeypatch):
    from tickets.services import provider_requests as webhook_services

    real_apply = webhook_services._apply
    monkeypatch.setattr(webhook_services, "_apply", lambda item: (_ for _ in ()).throw(RuntimeError("db down")))
    headers = {"I-Twilio-Idempotency-Token": "retry-me"}
    with pytest.raises(RuntimeError, match="db down"):
        post_captured(client, "twilio_sms_inbound.txt", **headers)
    assert not WebhookReceipt.objects.exists()
    monkeypatch.setattr(webhook_services, "_apply", real_apply)
    assert post_captured(client, "twilio_sms_inbound.txt", **headers).status_code == 200
    assert Message.objects.count() == 1


# --- STOP / START / HELP ---------------------------------------------------------------------------

def test_stop_marks_the_identity_opted_out_and_replies_are_refused(client, agent):
    post_captured(client, "twilio_sms_inbound.txt")
    post_signed(client, SMS_URL, sms_params("SM" + "d" * 32, "  stop "))
    identity = Identity.objects.get(channel="sms")
    assert identity.opted_out_at is not None
    stop = Message.objects.get(external_id="SM" + "d" * 32)
    assert stop.text.strip() == "stop" and stop.meta["twilio"]["keyword"] == "opt_out"  # the agent sees it
    with pytest.raises(ReplyRefused, match="opted out") as refused:
        services.reply(stop.ticket, author=agent, text="Are you sure?", channel="sms")
    assert "opted out" in refused.value.reason
    assert "STOP" in get_adapter("sms").compose_info(identity, "x")["blocked"]

    post_signed(client, SMS_URL, sms_params("SM" + "e" * 32, "START"))
    identity.refresh_from_db()
    assert identity.opted_out_at is None
    assert "blocked" not in get_adapter("sms").compose_info(identity, "x")


@pytest.mark.parametrize("word", ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT"])
def test_twilio_opt_out_keywords_on_sms(client, word):
    post_signed(client, SMS_URL, sms_params("SM" + "f" * 32, word))
    assert Identity.objects.get().opted_out_at is not None


@pytest.mark.parametrize("text", ["HELP", "info", "stop sending me ads please", "Please cancel my order"])
def test_help_and_sentences_change_nothing(client, text):
    post_signed(client, SMS_URL, sms_params("SM" + "1" * 32, text))
    assert Identity.objects.get().opted_out_at is None
    assert Message.objects.get().text == text


def test_whatsapp_cancel_is_an_answer_but_stop_opts_out(client):
    wa = {"MessageSid": "SM" + "2" * 32, "From": "whatsapp:+14155550123", "To": "whatsapp:+14155238886",
          "WaId": "14155550123", "ProfileName": "Jane", "Body": "Cancel", "NumMedia": "0"}
    post_signed(client, WA_URL, wa)
    assert Identity.objects.get().opted_out_at is None
    post_signed(client, WA_URL, {**wa, "MessageSid": "SM" + "3" * 32, "Body": "STOP"})
    assert Identity.objects.get().opted_out_at is not None


# --- media --------------------------------------------------------------------------------------------

MEDIA_URL = ("https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/"
             "MM2a3b4c5d6e7f80912a3b4c5d6e7f8091/Media/ME3c4d5e6f708192a33c4d5e6f708192a3")
CDN_URL = "https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC0123/abc123"


def test_media_is_downloaded_in_the_background_with_the_account_credentials(
        client, run_tasks, django_capture_on_commit_callbacks):
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
    with fake_twilio() as fake:
        # Twilio answers the media URL with a redirect to its CDN, as it does in production.
        fake.media[MEDIA_URL] = Reply(307, b"", {"Location": CDN_URL})
        fake.media[CDN_URL] = Reply(200, jpeg, {"Content-Type": "image/jpeg"})
        with django_capture_on_commit_callbacks(execute=True):
            response = post_captured(client, "twilio_whatsapp_inbound_media.txt")
        assert response.status_code == 200
        message = Message.objects.get()
        attachment = message.attachments.get()
        # The text is in before any byte of the photo.
        assert message.text == "Here is a photo of the damaged box"
        assert attachment.state == Attachment.State.PENDING and attachment.source_url == MEDIA_URL
        assert fake.sent == []
        run_tasks()
    attachment.refresh_from_db()
    assert attachment.state == Attachment.State.STORED
    assert attachment.content_type == "image/jpeg" and attachment.filename.endswith(".jpg")
    with attachment.file.open("rb") as f:
        assert f.read() == jpeg
    first, second = fake.sent
    expected = "Basic " + base64.b64encode(b"AC0123456789abcdef0123456789abcdef:test-twilio-auth-token").decode()
    assert (first.method, first.url, first.headers["Authorization"]) == ("GET", MEDIA_URL, expected)
    assert first.timeout == settings.TWILIO_TIMEOUT
    # The account credentials never follow the redirect to another host.
    assert second.host == "s3-external-1.amazonaws.com" and "Authorization" not in second.headers


def test_a_failed_media_download_is_retried(client, run_tasks, django_capture_on_commit_callbacks):
    with fake_twilio() as fake:
        fake.replies.append(Reply(503, b"busy"))
        fake.media[MEDIA_URL] = Reply(200, b"photo")
        with django_capture_on_commit_callbacks(execute=True):
            post_captured(client, "twilio_whatsapp_inbound_media.txt")
        attachment = Attachment.objects.get()
        assert run_until(run_tasks, lambda: Attachment.objects.get().state != Attachment.State.PENDING)
    attachment.refresh_from_db()
    assert attachment.state == Attachment.State.STORED and attachment.size == len(b"photo")
    assert len(fake.sent) == 2


def test_media_twilio_no_longer_has_fails_without_retrying(client, run_tasks, django_capture_on_commit_callbacks):
    with fake_twilio() as fake:
        with django_capture_on_commit_callbacks(execute=True):
            post_captured(client, "twilio_whatsapp_inbound_media.txt")
        run_tasks()  # the fake answers 404 for unknown media
    attachment = Attachment.objects.get()
    assert attachment.state == Attachment.State.FAILED and "no longer has this media" in attachment.error
    assert len(fake.sent) == 1


def test_credentials_are_never_sent_to_a_host_that_is_not_twilio(client):
    post_signed(client, SMS_URL, sms_params("MM" + "4" * 32, "", NumMedia="1",
                                            MediaUrl0="https://evil.example.com/steal", MediaContentType0="image/png"))
    attachment = Attachment.objects.get()
    with fake_twilio() as fake, pytest.raises(Exception, match="refusing to download"):
        get_adapter("sms").fetch_attachment(attachment)
    assert fake.sent == []
