"""Twilio outbound: the exact request the twilio library sends through our HTTP boundary, the
sender the customer wrote to, WhatsApp templates and window, and error classification."""

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from tests.fakes.twilio import Reply, fake_twilio, load_captured, twilio_error
from tickets import services
from tickets.channels import PermanentDeliveryError, TransientDeliveryError, get_adapter
from tickets.models import Event, Identity, Message

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "sms"
FORM = "application/x-www-form-urlencoded"
API = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"


def receive(client, name):
    captured = load_captured(FIXTURES / name)
    response = client.post(captured.path, captured.body, content_type=FORM,
                           headers={"X-Twilio-Signature": captured.signature})
    assert response.status_code == 200
    return Message.objects.filter(direction="inbound").latest("pk")


def send(inbound, agent, capture, text="Sorry about that! A new parcel leaves today.", **kwargs):
    with capture(execute=True):
        return services.reply(inbound.ticket, author=agent, text=text, channel=inbound.channel, **kwargs)


def test_the_exact_request_twilio_receives_for_an_sms_reply(client, agent, run_tasks,
                                                            django_capture_on_commit_callbacks):
    inbound = receive(client, "twilio_sms_inbound.txt")
    with fake_twilio() as fake:
        reply = send(inbound, agent, django_capture_on_commit_callbacks)
        run_tasks()
    (sent,) = fake.sent
    assert sent.method == "POST" and sent.url == API
    credentials = base64.b64encode(f"{settings.TWILIO_ACCOUNT_SID}:{settings.TWILIO_AUTH_TOKEN}".encode()).decode()
    assert sent.headers["Authorization"] == f"Basic {credentials}"
    assert sent.headers["Content-Type"] == FORM
    assert sent.headers["User-Agent"].startswith("twilio-python/")
    assert sent.timeout == settings.TWILIO_TIMEOUT  # explicit, never the library's "wait forever"
    assert sent.form == {
        "To": ["+14155550123"],
        "From": ["+15005550006"],  # the number the customer texted
        "Body": ["Sorry about that! A new parcel leaves today."],
        "StatusCallback": [f"https://helpdesk.example.com/channels/twilio/status/?message={reply.pk}"],
    }
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT and reply.external_id == fake.created_sids[0]


def test_a_reply_with_files_sends_signed_media_urls_twilio_can_fetch(client, agent, run_tasks,
                                                                    django_capture_on_commit_callbacks):
    from tests.factories import attachment

    inbound = receive(client, "twilio_whatsapp_inbound_media.txt")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    with fake_twilio() as fake:
        reply = send(inbound, agent, django_capture_on_commit_callbacks, text="",
                     attachments=[attachment("label.png", png, content_type="image/png"),
                                  attachment("invoice.pdf", b"%PDF-1.7 ...", content_type="application/pdf")])
        run_tasks()
    (call,) = fake.api_calls
    assert "Body" not in call.form  # a files-only reply
    urls = call.form["MediaUrl"]
    assert len(urls) == 2 and all(u.startswith("https://helpdesk.example.com/channels/twilio/media/") for u in urls)
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT
    # What Twilio fetches, without any login: the stored bytes with their stored type.
    first = client.get(urls[0].removeprefix("https://helpdesk.example.com"))
    assert first.status_code == 200 and b"".join(first.streaming_content) == png
    assert first["Content-Type"] == "image/png" and first["X-Content-Type-Options"] == "nosniff"
    # A forged or altered token, or a token for a customer's own upload, serves nothing.
    path = urls[0].removeprefix("https://helpdesk.example.com")
    assert client.get(path[:-3] + "xyz/").status_code == 404
    from django.core.files.base import ContentFile

    from channels_sms.media import media_url

    customer_photo = inbound.attachments.first()
    customer_photo.file.save("photo.jpg", ContentFile(b"\xff\xd8\xff customer's photo"), save=False)
    customer_photo.state = "stored"
    customer_photo.save()
    assert client.get(media_url(customer_photo).removeprefix("https://helpdesk.example.com")).status_code == 404


def test_media_urls_expire(client, agent, run_tasks, django_capture_on_commit_callbacks, monkeypatch):
    from channels_sms import media
    from tests.factories import attachment

    inbound = receive(client, "twilio_sms_inbound.txt")
    with fake_twilio() as fake:
        send(inbound, agent, django_capture_on_commit_callbacks, text="Your label",
             attachments=[attachment("label.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")])
        run_tasks()
    path = fake.api_calls[0].form["MediaUrl"][0].removeprefix("https://helpdesk.example.com")
    assert client.get(path).status_code == 200
    monkeypatch.setattr(media, "MAX_AGE_SECONDS", -1)
    assert client.get(path).status_code == 404


def test_a_whatsapp_reply_goes_from_the_whatsapp_sender_to_the_whatsapp_address(
        client, agent, run_tasks, django_capture_on_commit_callbacks):
    inbound = receive(client, "twilio_whatsapp_inbound_media.txt")
    with fake_twilio() as fake:
        send(inbound, agent, django_capture_on_commit_callbacks, text="Thanks for the photo.")
        run_tasks()
    (call,) = fake.api_calls
    assert call.form["To"] == ["whatsapp:+14155550123"]
    assert call.form["From"] == ["whatsapp:+14155238886"]
    assert call.form["Body"] == ["Thanks for the photo."]


def test_the_reply_comes_from_whichever_of_our_numbers_the_customer_wrote_to(
        client, agent, run_tasks, django_capture_on_commit_callbacks, settings):
    from tests.test_sms_inbound import post_signed, sms_params

    post_signed(client, "/channels/twilio/sms/", sms_params("SM" + "9" * 32, "hi", to="+15005550099"))
    inbound = Message.objects.get()
    with fake_twilio() as fake:
        send(inbound, agent, django_capture_on_commit_callbacks)
        run_tasks()
    assert fake.api_calls[0].form["From"] == ["+15005550099"]


def test_without_an_inbound_number_the_configured_sender_is_used(agent, run_tasks, django_capture_on_commit_callbacks):
    from tests.factories import inbound as make_inbound

    result = services.ingest(make_inbound("+14155550100", "via another adapter", channel="sms", external_id="X1"))
    with fake_twilio() as fake:
        send(result.message, agent, django_capture_on_commit_callbacks)
        run_tasks()
    assert fake.api_calls[0].form["From"] == [settings.TWILIO_SMS_FROM]


def test_a_whatsapp_template_is_sent_by_content_sid_with_its_variables(
        client, agent, run_tasks, django_capture_on_commit_callbacks):
    inbound = receive(client, "twilio_whatsapp_inbound_media.txt")
    Identity.objects.filter(channel="whatsapp").update(last_inbound_at=timezone.now() - timedelta(days=3))
    template = {"id": "HXb5b62575e6e4ff6129ad7c8efe1f983e", "variables": {"1": "Jane"}}
    with fake_twilio() as fake:
        reply = send(inbound, agent, django_capture_on_commit_callbacks, text="", meta={"template": template})
        run_tasks()
    (call,) = fake.api_calls
    assert call.form["ContentSid"] == ["HXb5b62575e6e4ff6129ad7c8efe1f983e"]
    assert json.loads(call.form["ContentVariables"][0]) == {"1": "Jane"}
    assert "Body" not in call.form
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT


def test_free_text_outside_the_whatsapp_window_fails_before_calling_twilio(
        client, agent, run_tasks, django_capture_on_commit_callbacks):
    inbound = receive(client, "twilio_whatsapp_inbound_media.txt")
    Identity.objects.filter(channel="whatsapp").update(last_inbound_at=timezone.now() - timedelta(hours=25))
    with fake_twilio() as fake:
        reply = send(inbound, agent, django_capture_on_commit_callbacks)
        run_tasks()
    assert fake.api_calls == []  # no send attempted (the inbound media download may run)
    reply.refresh_from_db()
    assert reply.status == Message.Status.FAILED and reply.error_code == "63016"
    assert "24 hours" in reply.error_message and "template" in reply.error_message


def test_compose_info_knows_the_whatsapp_window_and_offers_templates(client):
    receive(client, "twilio_whatsapp_inbound_media.txt")
    identity = Identity.objects.get(channel="whatsapp")
    adapter = get_adapter("whatsapp")
    info = adapter.compose_info(identity, "hello")
    assert info["window_open"] is True and "blocked" not in info
    assert info["window_closes_at"] == (identity.last_inbound_at + timedelta(hours=24)).isoformat()
    assert info["templates"] == settings.TWILIO_WHATSAPP_TEMPLATES
    identity.last_inbound_at = timezone.now() - timedelta(hours=24, seconds=1)
    closed = adapter.compose_info(identity, "hello")
    assert closed["window_open"] is False and "template" in closed["blocked"]
    assert closed["templates"][0]["id"].startswith("HX")


def test_compose_info_counts_sms_segments(client):
    receive(client, "twilio_sms_inbound.txt")
    identity = Identity.objects.get(channel="sms")
    adapter = get_adapter("sms")
    assert adapter.compose_info(identity, "a" * 160) == {"encoding": "GSM-7", "segments": 1, "units": 160,
                                                         "per_segment": 160, "attachments": True}
    assert adapter.compose_info(identity, "a" * 161)["segments"] == 2
    assert adapter.compose_info(identity, "Grüße 😀")["encoding"] == "UCS-2"
    assert "1600" in adapter.compose_info(identity, "a" * 1601)["blocked"]


# --- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "code", "reason"), [
    (400, 21610, "STOP"),
    (400, 21211, "not valid"),
    (400, 21614, "not a mobile number"),
    (400, 63016, "24 hours"),
    (400, 21999, "Something Twilio said"),  # an unknown 4xx: permanent, with Twilio's words
])
def test_permanent_errors_fail_at_once_with_a_clear_reason(client, agent, run_tasks, django_capture_on_commit_callbacks,
                                                           status, code, reason):
    inbound = receive(client, "twilio_sms_inbound.txt")
    with fake_twilio() as fake:
        fake.replies.append(twilio_error(status, code, "Something Twilio said"))
        reply = send(inbound, agent, django_capture_on_commit_callbacks)
        run_tasks()
    reply.refresh_from_db()
    assert reply.status == Message.Status.FAILED
    assert reply.error_code == str(code) and reason in reply.error_message
    assert len(fake.api_calls) == 1  # no retry


def test_a_send_twilio_refuses_as_unsubscribed_marks_the_customer_opted_out(
        client, agent, run_tasks, django_capture_on_commit_callbacks):
    """The customer texted STOP somewhere we did not see (another number of ours, before the
    helpdesk): Twilio's 21610 tells us, and the console stops offering SMS to them."""
    inbound = receive(client, "twilio_sms_inbound.txt")
    identity = Identity.objects.get(channel="sms")
    assert identity.opted_out_at is None
    with fake_twilio() as fake:
        fake.replies.append(twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"))
        send(inbound, agent, django_capture_on_commit_callbacks)
        run_tasks()
    identity.refresh_from_db()
    assert identity.opted_out_at is not None
    assert Event.objects.filter(kind="identity.updated", data__opted_out=True).count() == 1
    assert "STOP" in get_adapter("sms").compose_info(identity, "hi")["blocked"]
    with fake_twilio() as fake:  # other refusals leave the identity alone
        fake.replies.append(twilio_error(400, 21211, "Invalid 'To' Phone Number"))
        identity.opted_out_at = None
        identity.save(update_fields=["opted_out_at"])
        send(inbound, agent, django_capture_on_commit_callbacks, client_id="second")
        run_tasks()
    identity.refresh_from_db()
    assert identity.opted_out_at is None


@pytest.mark.parametrize("failure", [
    twilio_error(429, 20429, "Too Many Requests", {"Retry-After": "0"}),
    twilio_error(500, 20500, "Internal Server Error"),
    Reply(503, b"<html>Service Unavailable</html>"),
    requests.ReadTimeout("read timed out"),
    requests.ConnectionError("connection reset"),
])
def test_transient_errors_retry_and_then_send(client, agent, run_tasks, django_capture_on_commit_callbacks, failure):
    from tests.test_sms_inbound import run_until

    inbound = receive(client, "twilio_sms_inbound.txt")
    with fake_twilio() as fake:
        fake.replies.append(failure)
        reply = send(inbound, agent, django_capture_on_commit_callbacks)
        assert run_until(run_tasks, lambda: Message.objects.get(pk=reply.pk).status != Message.Status.QUEUED)
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT and reply.external_id == fake.created_sids[0]
    assert reply.meta["attempts"] == 1 and reply.meta["last_error"]
    assert len(fake.api_calls) == 2


def test_rate_limit_carries_twilios_retry_after(client, agent):
    inbound = receive(client, "twilio_sms_inbound.txt")
    reply = Message.objects.create(ticket=inbound.ticket, customer=inbound.customer, direction="outbound",
                                   channel="sms", adapter="sms", identity=inbound.identity, text="hi")
    with fake_twilio() as fake, pytest.raises(TransientDeliveryError, match="rate limiting this account") as raised:
        fake.replies.append(twilio_error(429, 20429, "Too Many Requests", {"Retry-After": "30"}))
        get_adapter("sms").deliver(reply)
    assert raised.value.code == "20429" and raised.value.retry_after == 30


def test_a_stop_that_arrives_after_the_reply_was_queued_still_stops_it(client, agent):
    inbound = receive(client, "twilio_sms_inbound.txt")
    Identity.objects.filter(pk=inbound.identity_id).update(opted_out_at=timezone.now())
    reply = Message.objects.select_related("identity").get(pk=Message.objects.create(
        ticket=inbound.ticket, customer=inbound.customer, direction="outbound", channel="sms",
        adapter="sms", identity=inbound.identity, text="hi").pk)
    with fake_twilio() as fake, pytest.raises(PermanentDeliveryError) as raised:
        get_adapter("sms").deliver(reply)
    assert raised.value.code == "21610" and fake.sent == []


def test_without_credentials_the_reply_fails_with_a_configuration_reason(client, agent, settings):
    inbound = receive(client, "twilio_sms_inbound.txt")
    settings.TWILIO_AUTH_TOKEN = ""
    reply = Message.objects.create(ticket=inbound.ticket, customer=inbound.customer, direction="outbound",
                                   channel="sms", adapter="sms", identity=inbound.identity, text="hi")
    with pytest.raises(PermanentDeliveryError, match="TWILIO_AUTH_TOKEN"):
        get_adapter("sms").deliver(reply)
