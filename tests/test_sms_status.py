"""Twilio status callbacks: signed, routed to the right medium, forward only whatever the order."""

import random
from pathlib import Path

import pytest
from django.conf import settings

from tests.fakes.twilio import Reply, fake_twilio, form_body, load_captured, sign
from tickets import services
from tickets.models import Event, InboundPayload, Message

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "sms"
FORM = "application/x-www-form-urlencoded"
STATUS_URL = "/channels/twilio/status/"


def sent_reply(client, agent, run_tasks, capture, fixture, sid):
    """An agent's reply that Twilio accepted under `sid`."""
    captured = load_captured(FIXTURES / fixture)
    client.post(captured.path, captured.body, content_type=FORM, headers={"X-Twilio-Signature": captured.signature})
    inbound = Message.objects.filter(direction="inbound").latest("pk")
    with fake_twilio() as fake:
        fake.replies.append(Reply(201, {"sid": sid, "status": "queued"}, only_for="/Messages.json"))
        with capture(execute=True):
            reply = services.reply(inbound.ticket, author=agent, text="On its way.", channel=inbound.channel)
        run_tasks()
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT and reply.external_id == sid
    return reply


def callback(client, reply, status, error_code=""):
    prefix = "whatsapp:" if reply.channel == "whatsapp" else ""
    params = {"MessageSid": reply.external_id, "SmsSid": reply.external_id, "MessageStatus": status,
              "SmsStatus": status, "To": prefix + reply.identity.address, "From": prefix + "+15005550006",
              "AccountSid": settings.TWILIO_ACCOUNT_SID, "ApiVersion": "2010-04-01"}
    if error_code:
        params["ErrorCode"] = error_code
    path = f"{STATUS_URL}?message={reply.pk}"
    signature = sign(settings.HELPDESK_PUBLIC_URL + path, params, settings.TWILIO_AUTH_TOKEN)
    response = client.post(path, form_body(params), content_type=FORM, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.content
    return response


def test_the_captured_delivered_callback_marks_the_sms_delivered(client, agent, run_tasks,
                                                                 django_capture_on_commit_callbacks):
    reply = sent_reply(client, agent, run_tasks, django_capture_on_commit_callbacks, "twilio_sms_inbound.txt",
                       "SM4d5e6f708192a3b44d5e6f708192a3b4")
    captured = load_captured(FIXTURES / "twilio_status_callback_delivered.txt")
    response = client.post(captured.path, captured.body, content_type=FORM,
                           headers={"X-Twilio-Signature": captured.signature})
    assert response.status_code == 200 and response.content.decode().endswith("<Response />")
    reply.refresh_from_db()
    assert reply.status == Message.Status.DELIVERED
    assert InboundPayload.objects.filter(path__startswith=STATUS_URL).get().adapter == "sms"


def test_the_captured_whatsapp_63016_callback_fails_the_reply_with_its_meaning(
        client, agent, run_tasks, django_capture_on_commit_callbacks):
    reply = sent_reply(client, agent, run_tasks, django_capture_on_commit_callbacks,
                       "twilio_whatsapp_inbound_media.txt", "SM5e6f708192a3b4c55e6f708192a3b4c5")
    captured = load_captured(FIXTURES / "twilio_status_callback_whatsapp_failed_63016.txt")
    client.post(captured.path, captured.body, content_type=FORM, headers={"X-Twilio-Signature": captured.signature})
    reply.refresh_from_db()
    assert reply.status == Message.Status.FAILED and reply.error_code == "63016"
    assert "24 hours" in reply.error_message and "template" in reply.error_message
    # Stored under the WhatsApp adapter, so a replay parses it the same way.
    assert InboundPayload.objects.filter(path__startswith=STATUS_URL).get().adapter == "whatsapp"


def test_a_forged_status_callback_is_refused(client, agent, run_tasks, django_capture_on_commit_callbacks):
    reply = sent_reply(client, agent, run_tasks, django_capture_on_commit_callbacks, "twilio_sms_inbound.txt",
                       "SM4d5e6f708192a3b44d5e6f708192a3b4")
    captured = load_captured(FIXTURES / "twilio_status_callback_delivered.txt")
    response = client.post(STATUS_URL, captured.body, content_type=FORM,  # signed URL had ?message=...
                           headers={"X-Twilio-Signature": captured.signature})
    assert response.status_code == 403
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT


@pytest.mark.parametrize(("fixture", "callbacks", "final", "code"), [
    ("twilio_sms_inbound.txt", ["queued", "sending", "sent", "delivered"], Message.Status.DELIVERED, ""),
    ("twilio_whatsapp_inbound_media.txt", ["queued", "sent", "delivered", "read"], Message.Status.READ, ""),
    ("twilio_sms_inbound.txt", ["queued", "sending", "sent", "undelivered"], Message.Status.FAILED, "30003"),
    ("twilio_whatsapp_inbound_media.txt", ["sent", "failed"], Message.Status.FAILED, "63016"),
])
@pytest.mark.parametrize("seed", range(6))
def test_shuffled_and_repeated_callbacks_end_in_the_right_final_status(
        client, agent, run_tasks, django_capture_on_commit_callbacks, fixture, callbacks, final, code, seed):
    reply = sent_reply(client, agent, run_tasks, django_capture_on_commit_callbacks, fixture,
                       f"SM{seed:02d}" + "7" * 30)
    rng = random.Random(seed)
    deliveries = callbacks * 3  # every callback repeated
    rng.shuffle(deliveries)
    for status in deliveries:
        callback(client, reply, status, error_code=code if status in ("failed", "undelivered") else "")
    reply.refresh_from_db()
    assert reply.status == final
    assert reply.error_code == code
    if code:
        assert reply.error_message
    # The agent's view never went backward, not even for a moment: each status event is a step up.
    rank = {"queued": 0, "sent": 1, "delivered": 2, "failed": 2, "read": 3}
    seen = [rank[e.data["status"]] for e in Event.objects.filter(message=reply, kind="message.status").order_by("seq")]
    assert seen == sorted(set(seen)) and seen[-1] == rank[final]


def test_an_undelivered_callback_without_a_code_still_says_why(client, agent, run_tasks,
                                                              django_capture_on_commit_callbacks):
    reply = sent_reply(client, agent, run_tasks, django_capture_on_commit_callbacks, "twilio_sms_inbound.txt",
                       "SM" + "8" * 32)
    callback(client, reply, "undelivered")
    reply.refresh_from_db()
    assert reply.status == Message.Status.FAILED and reply.error_message


def test_a_callback_for_a_message_we_do_not_know_is_acknowledged_and_kept(client):
    captured = load_captured(FIXTURES / "twilio_status_callback_delivered.txt")
    response = client.post(captured.path, captured.body, content_type=FORM,
                           headers={"X-Twilio-Signature": captured.signature})
    assert response.status_code == 200
    assert InboundPayload.objects.get().state == InboundPayload.State.PROCESSED
    assert Message.objects.count() == 0


def test_a_callback_that_overtakes_its_own_send_is_applied_once_the_send_is_recorded(
        client, agent, run_tasks, django_capture_on_commit_callbacks, monkeypatch):
    from channels_sms import tasks as sms_tasks
    from tickets.tasks import deliver_message

    monkeypatch.setattr(sms_tasks, "DELAY_SECONDS", 0.0)
    captured = load_captured(FIXTURES / "twilio_sms_inbound.txt")
    client.post(captured.path, captured.body, content_type=FORM, headers={"X-Twilio-Signature": captured.signature})
    inbound = Message.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply(inbound.ticket, author=agent, text="On its way.", channel="sms")
    # Twilio accepted the send and already reports it delivered; our worker has not recorded the sid.
    reply.external_id = "SM" + "e" * 32
    callback(client, reply, "delivered")
    reply.refresh_from_db()
    assert reply.status == Message.Status.QUEUED
    with fake_twilio() as fake:
        fake.replies.append(Reply(201, {"sid": "SM" + "e" * 32, "status": "queued"}, only_for="/Messages.json"))
        deliver_message.call(reply.pk)  # the worker records the send just after the callback
    assert Message.objects.get(pk=reply.pk).status == Message.Status.SENT
    run_tasks()  # the second look at the stored callback
    reply.refresh_from_db()
    assert reply.status == Message.Status.DELIVERED


def test_an_ordinary_callback_schedules_no_second_look(client, agent, run_tasks, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from channels_sms.tasks import reprocess_status_callback

    reply = sent_reply(client, agent, run_tasks, django_capture_on_commit_callbacks, "twilio_sms_inbound.txt",
                       "SM" + "6" * 32)
    callback(client, reply, "delivered")
    assert not DBTaskResult.objects.filter(task_path=reprocess_status_callback.module_path).exists()
