"""Outgoing webhooks: signed deliveries to a real local receiver, retries with a stable delivery
id, event filtering, and the SSRF guard (refused by default, re-checked at send time)."""

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from integrations import signing
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.ssrf import UnsafeDestination, check_url, is_public
from integrations.tasks import fan_out_event
from tests.factories import inbound
from tickets import services
from tickets.models import Event

pytestmark = pytest.mark.django_db

PORTS = range(8600, 8700)


class FakeReceiver:
    """A tiny HTTP server on 127.0.0.1 (our port range) that records requests and answers with
    the next scripted status (200 when the script runs out)."""

    def __init__(self):
        self.requests, self.script = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        for port in PORTS:
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
                break
            except OSError:
                continue
        else:
            raise RuntimeError("no free port in 8600-8699")
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook", host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = FakeReceiver()
    yield server
    server.close()


@pytest.fixture
def allow_local(settings):
    settings.HELPDESK_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def deliver(run_tasks, django_capture_on_commit_callbacks):
    """Run the worker until nothing is due (fan-out, then the sends it enqueued). With
    time_passes, retries scheduled for later become due first."""

    def run(time_passes=False):
        ready = DBTaskResult.objects.filter(status="READY")
        if time_passes:
            ready.update(run_after=timezone.now() - timedelta(hours=7))
        for _ in range(10):
            if not DBTaskResult.objects.ready().exists():
                return
            with django_capture_on_commit_callbacks(execute=True):
                run_tasks()
        raise AssertionError("tasks keep coming")

    return run


def ingest(text="Where is my parcel?", capture=None, **kwargs):
    with capture(execute=True):
        return services.ingest(inbound("ada@example.com", text, channel="fake", **kwargs)).message


def test_a_delivery_reaches_the_receiver_signed(receiver, allow_local, deliver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpoint.objects.create(name="CRM", url=receiver.url(), event_types=["message.created"])
    message = ingest(capture=django_capture_on_commit_callbacks)
    deliver()

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    delivery = WebhookDelivery.objects.get()
    assert request["path"] == "/hook"
    assert headers["Content-Type"] == "application/json"
    assert headers[signing.DELIVERY_HEADER] == str(delivery.pk)
    assert headers[signing.EVENT_HEADER] == "message.created"
    assert signing.verify(endpoint.secret, body, headers[signing.TIMESTAMP_HEADER], headers[signing.SIGNATURE_HEADER])
    # What any receiver computes: HMAC-SHA256(secret, "<timestamp>.<raw body>"), hex, after "v1=".
    expected = hmac.new(endpoint.secret.encode(), f"{headers[signing.TIMESTAMP_HEADER]}.".encode() + body,
                        hashlib.sha256).hexdigest()
    assert headers[signing.SIGNATURE_HEADER] == f"v1={expected}"
    assert abs(int(headers[signing.TIMESTAMP_HEADER]) - time.time()) < 300
    assert not signing.verify("whsec_wrong", body, headers[signing.TIMESTAMP_HEADER], headers[signing.SIGNATURE_HEADER])
    assert not signing.verify(endpoint.secret, body + b" ", headers[signing.TIMESTAMP_HEADER],
                              headers[signing.SIGNATURE_HEADER])

    payload = json.loads(body)
    event = Event.objects.get(kind="message.created")
    assert payload["type"] == "message.created" and payload["event_id"] == event.seq
    assert payload["ticket"] == message.ticket_id and payload["customer"] == message.customer_id
    assert payload["data"]["id"] == message.pk and payload["data"]["text"] == "Where is my parcel?"
    delivery.refresh_from_db()
    assert delivery.state == "succeeded" and delivery.attempts == 1 and delivery.last_status_code == 200
    assert delivery.log[0]["status"] == 200


def test_failures_retry_with_backoff_and_the_same_delivery_id(receiver, allow_local, deliver,
                                                               django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(name="CRM", url=receiver.url(), event_types=["message.created"])
    receiver.script = [(500, {}), (503, {"Retry-After": "0"})]
    ingest(capture=django_capture_on_commit_callbacks)
    deliver()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 1 and delivery.next_attempt_at is not None
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.run_after is not None  # scheduled through the queue, not slept on
    deliver(time_passes=True)
    deliver(time_passes=True)

    assert len(receiver.requests) == 3
    ids = {r["headers"][signing.DELIVERY_HEADER] for r in receiver.requests}
    bodies = {r["body"] for r in receiver.requests}
    assert ids == {str(delivery.pk)} and len(bodies) == 1
    delivery.refresh_from_db()
    assert delivery.state == "succeeded" and delivery.attempts == 3
    assert [line["status"] for line in delivery.log] == [500, 503, 200]


def test_a_delivery_gives_up_after_the_bounded_attempts(receiver, allow_local, settings, deliver,
                                                        django_capture_on_commit_callbacks):
    settings.HELPDESK_WEBHOOKS_MAX_ATTEMPTS = 3
    WebhookEndpoint.objects.create(name="CRM", url=receiver.url(), event_types=["*"])
    receiver.script = [(500, {})] * 10
    ingest(capture=django_capture_on_commit_callbacks)
    for _ in range(5):
        deliver(time_passes=True)
    for delivery in WebhookDelivery.objects.all():
        assert delivery.state == "failed" and delivery.attempts == 3
        assert delivery.last_error.startswith("HTTP 500")


def test_redirects_are_not_followed(receiver, allow_local, deliver, django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(name="CRM", url=receiver.url(), event_types=["message.created"])
    receiver.script = [(302, {"Location": receiver.url("/elsewhere")})]
    ingest(capture=django_capture_on_commit_callbacks)
    deliver()
    assert [r["path"] for r in receiver.requests] == ["/hook"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "pending" and delivery.last_status_code == 302


def test_only_subscribed_events_and_no_notes_unless_asked(receiver, allow_local, deliver, agent,
                                                          django_capture_on_commit_callbacks):
    tickets_only = WebhookEndpoint.objects.create(name="BI", url=receiver.url("/bi"), event_types=["ticket.created"])
    messages = WebhookEndpoint.objects.create(name="Bot", url=receiver.url("/bot"), event_types=["message.created"])
    everything = WebhookEndpoint.objects.create(name="Audit", url=receiver.url("/audit"), event_types=["*"],
                                                include_notes=True)
    WebhookEndpoint.objects.create(name="Off", url=receiver.url("/off"), event_types=["*"], is_active=False)
    message = ingest(capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.note(message.ticket, author=agent, text="internal only")
    deliver()

    received = {}
    for r in receiver.requests:
        received.setdefault(r["path"], []).append(json.loads(r["body"])["type"])
    assert received["/bi"] == ["ticket.created"]
    assert received["/bot"] == ["message.created"]  # the customer's message, not the note
    assert sorted(received["/audit"]) == ["message.created", "message.created", "ticket.created"]
    assert "/off" not in received
    assert WebhookDelivery.objects.filter(endpoint=tickets_only).count() == 1
    assert WebhookDelivery.objects.filter(endpoint=messages).count() == 1
    assert WebhookDelivery.objects.filter(endpoint=everything).count() == 3


def test_a_repeated_fan_out_creates_nothing_twice(allow_local, receiver, django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(name="CRM", url=receiver.url(), event_types=["message.created"])
    ingest(capture=django_capture_on_commit_callbacks)
    seq = Event.objects.get(kind="message.created").seq
    assert fan_out_event.call(seq) == 1
    assert fan_out_event.call(seq) == 0
    assert WebhookDelivery.objects.count() == 1


def test_no_endpoint_means_no_task(django_capture_on_commit_callbacks):
    ingest(capture=django_capture_on_commit_callbacks)
    # Keyed on the task itself, not a name fragment, so a rename cannot make this pass vacuously.
    assert not DBTaskResult.objects.filter(task_path=fan_out_event.module_path).exists()


def test_an_endpoint_event_types_are_validated():
    endpoint = WebhookEndpoint(name="x", url="https://hooks.example.com/", event_types=["ticket.exploded"])
    with pytest.raises(ValidationError):
        endpoint.full_clean(exclude=["url"])


# --- SSRF -------------------------------------------------------------------------------------

def test_a_loopback_url_is_refused_by_default(receiver):
    endpoint = WebhookEndpoint(name="local", url=receiver.url(), event_types=["*"])
    with pytest.raises(ValidationError) as refused:
        endpoint.full_clean()
    assert "127.0.0.1" in str(refused.value)
    for url in ("http://localhost/", "http://[::1]/", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data",
                "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "file:///etc/passwd", "gopher://example.com/"):
        with pytest.raises(UnsafeDestination):
            check_url(url)


def test_a_loopback_delivery_is_refused_at_send_time_and_not_retried(receiver, deliver,
                                                                      django_capture_on_commit_callbacks):
    # Saved without validation (a fixture, a shell): the sender checks again anyway.
    WebhookEndpoint.objects.create(name="local", url=receiver.url(), event_types=["message.created"])
    ingest(capture=django_capture_on_commit_callbacks)
    deliver()
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed" and delivery.last_error.startswith("refused:")
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_a_name_that_rebinds_to_loopback_after_registration_is_refused(receiver, monkeypatch, deliver,
                                                                         django_capture_on_commit_callbacks):
    answers = {"hooks.example.com": "93.184.216.34"}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers.get(host, host), port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    endpoint = WebhookEndpoint(name="rebind", url=f"http://hooks.example.com:{receiver.port}/hook",
                               event_types=["message.created"])
    endpoint.full_clean()  # public at registration
    endpoint.save()
    answers["hooks.example.com"] = "127.0.0.1"  # ... loopback when we send
    ingest(capture=django_capture_on_commit_callbacks)
    deliver()
    assert receiver.requests == []
    assert WebhookDelivery.objects.get().last_error.startswith("refused:")


def test_the_connection_goes_to_the_address_that_was_checked(receiver, allow_local, monkeypatch, deliver,
                                                              django_capture_on_commit_callbacks):
    """We connect to the vetted IP ourselves (Host header keeps the name), so nothing resolves
    the name a second time behind the check's back."""
    resolved = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        resolved.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    WebhookEndpoint.objects.create(name="named", url=f"http://hooks.internal.test:{receiver.port}/hook",
                                   event_types=["message.created"])
    ingest(capture=django_capture_on_commit_callbacks)
    deliver()
    assert resolved.count("hooks.internal.test") == 1  # by the check only; httpx was given the IP
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.internal.test:{receiver.port}"


@pytest.mark.parametrize("address,public", [
    ("93.184.216.34", True), ("2606:4700:4700::1111", True), ("8.8.8.8", True),
    ("127.0.0.1", False), ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),  # noqa: S104
    ("240.0.0.1", False), ("::1", False), ("fe80::1", False), ("fc00::1", False),
    ("::ffff:10.0.0.1", False), ("2002:7f00:1::", False),
])
def test_is_public(address, public):
    assert is_public(address) is public


def test_signatures_expire():
    body, secret = b'{"a":1}', "whsec_x"
    ts = int(time.time()) - 3600
    assert not signing.verify(secret, body, str(ts), signing.sign(secret, ts, body))
    assert signing.verify(secret, body, str(ts), signing.sign(secret, ts, body), now=ts + 10)
    assert not signing.verify(secret, body, "not-a-number", "v1=00")


def test_the_admin_lists_deliveries_and_refuses_a_loopback_endpoint(admin_client, receiver, allow_local, deliver,
                                                                     settings, django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(name="CRM", url=receiver.url(), event_types=["message.created"])
    ingest(capture=django_capture_on_commit_callbacks)
    deliver()
    page = admin_client.get("/admin/integrations/webhookdelivery/")
    assert page.status_code == 200 and b"message.created" in page.content
    delivery = WebhookDelivery.objects.get()
    assert admin_client.get(f"/admin/integrations/webhookdelivery/{delivery.pk}/change/").status_code == 200

    settings.HELPDESK_WEBHOOKS_ALLOW_PRIVATE = False
    response = admin_client.post("/admin/integrations/webhookendpoint/add/", {
        "name": "sneaky", "url": "http://127.0.0.1:6379/", "event_types": '["*"]', "is_active": "on"})
    assert response.status_code == 200 and b"private, loopback" in response.content
    assert not WebhookEndpoint.objects.filter(name="sneaky").exists()


def test_the_admin_retries_a_failed_delivery_with_the_same_id(admin_client, receiver, allow_local, deliver,
                                                              settings, django_capture_on_commit_callbacks):
    settings.HELPDESK_WEBHOOKS_MAX_ATTEMPTS = 1
    WebhookEndpoint.objects.create(name="CRM", url=receiver.url(), event_types=["message.created"])
    receiver.script = [(500, {})]
    ingest(capture=django_capture_on_commit_callbacks)
    deliver()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed"
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/integrations/webhookdelivery/",
                          {"action": "retry", "_selected_action": [str(delivery.pk)]})
    deliver()
    delivery.refresh_from_db()
    assert delivery.state == "succeeded"
    assert [r["headers"][signing.DELIVERY_HEADER] for r in receiver.requests] == [str(delivery.pk)] * 2



@pytest.mark.django_db
def test_old_finished_deliveries_are_pruned_and_pending_ones_kept():
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from integrations.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(name="crm", url="https://crm.example.com/hook", event_types=[])
    old, recent = timezone.now() - timedelta(days=31), timezone.now() - timedelta(days=1)
    states = {1: ("succeeded", old), 2: ("failed", old), 3: ("pending", old), 4: ("succeeded", recent)}
    for seq, (state, created) in states.items():
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_seq=seq, event_type="message.created",
                                                  body="{}", state=state)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=created)
    call_command("prune_webhook_deliveries", "--days", "30")
    assert sorted(WebhookDelivery.objects.values_list("event_seq", flat=True)) == [3, 4]
