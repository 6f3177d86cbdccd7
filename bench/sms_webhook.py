"""Signed Twilio SMS webhooks through the real view (signature check -> raw payload stored ->
parse -> ingest -> empty TwiML) on a fresh SQLite database, then status callbacks for replies.
Twilio gives up on a webhook after 15 s; we aim far lower. Prints latency percentiles and rate;
target: p95 <= 50 ms per inbound webhook.

    .venv/bin/python bench/sms_webhook.py [COUNT]
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_P95_MS = 50.0
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
PUBLIC, TOKEN, SID = "https://helpdesk.example.com", "bench-twilio-token", "AC" + "0" * 32

tmp = tempfile.mkdtemp(prefix="bench-sms-")
os.environ.update({"HELPDESK_VAR_DIR": tmp, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
                   "HELPDESK_PUBLIC_URL": PUBLIC, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": SID,
                   "DJANGO_ALLOWED_HOSTS": "testserver", "HELPDESK_LOG_LEVEL": "ERROR",
                   "DJANGO_SETTINGS_MODULE": "helpdesk.settings"})
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from tests.fakes.twilio import form_body, sign  # noqa: E402
from tickets.models import Message  # noqa: E402

FORM = "application/x-www-form-urlencoded"


def post(client, path, params):
    signature = sign(PUBLIC + path, params, TOKEN)
    start = time.perf_counter()
    response = client.post(path, form_body(params), content_type=FORM, headers={"X-Twilio-Signature": signature})
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.content
    return elapsed


def inbound(i):
    return {"ToCountry": "US", "ToState": "CA", "SmsMessageSid": f"SM{i:032x}", "NumMedia": "0",
            "Body": f"Hi, my order #{i} never arrived. Can you help?", "FromCountry": "US",
            "To": "+15005550006", "NumSegments": "1", "MessageSid": f"SM{i:032x}", "AccountSid": SID,
            "From": f"+1415555{i % 300:04d}", "ApiVersion": "2010-04-01"}


def report(name, times):
    ms = sorted(t * 1000 for t in times)
    p50, p95 = statistics.median(ms), ms[int(len(ms) * 0.95) - 1]
    print(f"  {name}: {len(ms)} in {sum(ms) / 1000:.2f} s = {len(ms) / (sum(ms) / 1000):.0f}/s, "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms")
    return p95


def main():
    call_command("migrate", verbosity=0)
    client = Client()
    for i in range(20):  # warm up imports and caches
        post(client, "/channels/twilio/sms/", inbound(10**6 + i))
    inbound_times = [post(client, "/channels/twilio/sms/", inbound(i)) for i in range(COUNT)]
    replay_times = [post(client, "/channels/twilio/sms/", inbound(i)) for i in range(0, COUNT, 10)]
    # Status callbacks for outbound replies (stored directly: the bench is about the webhook).
    replies = []
    for message in Message.objects.filter(direction="inbound").select_related("ticket", "identity")[:COUNT // 2]:
        replies.append(Message.objects.create(
            ticket=message.ticket, customer_id=message.customer_id, direction="outbound", channel="sms",
            adapter="sms", identity=message.identity, text="On its way", status="sent",
            external_id=f"SMout{message.pk:029x}"))
    status_times = []
    for status in ("delivered", "sent", "delivered"):  # forward, backward (ignored), repeated
        for reply in replies:
            params = {"MessageSid": reply.external_id, "MessageStatus": status, "To": reply.identity.address,
                      "From": "+15005550006", "AccountSid": SID, "ApiVersion": "2010-04-01"}
            status_times.append(post(client, f"/channels/twilio/status/?message={reply.pk}", params))
    # The adapter's own share (signature check + parse, no storage), for the record.
    from tickets.channels import RawRequest, get_adapter

    adapter, share = get_adapter("sms"), []
    for i in range(COUNT):
        params = inbound(i)
        body = form_body(params)
        raw = RawRequest("POST", "/channels/twilio/sms/", FORM,
                         {"X-Twilio-Signature": sign(PUBLIC + "/channels/twilio/sms/", params, TOKEN)}, body)
        start = time.perf_counter()
        adapter.verify(raw)
        adapter.parse(raw)
        share.append(time.perf_counter() - start)
    report("signature check + parse alone", share)
    p95 = report("inbound webhook", inbound_times)
    report("replayed webhook (same MessageSid)", replay_times)
    report("status callback", status_times)
    delivered = Message.objects.filter(direction="outbound", status="delivered").count()
    ok = p95 <= TARGET_P95_MS and delivered == len(replies)
    print(f"sms webhook (SQLite): inbound p95 {p95:.1f} ms (target <= {TARGET_P95_MS:.0f} ms), "
          f"{delivered}/{len(replies)} replies delivered {'OK' if ok else 'BELOW TARGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
