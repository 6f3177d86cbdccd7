"""Twilio webhooks, mounted on the shared InboundWebhookView (verify, keep, process, answer).

What is added here: I-Twilio-Idempotency-Token (a resend we already processed is answered at
once, after its signature is checked, and stored no second time), and one status-callback URL
for both media, routed to the adapter that sent the message, with a second look later at a
callback that overtook its own send (channels_sms.tasks)."""

from __future__ import annotations

from django.http import HttpResponse, QueryDict

from channels_sms.adapter import idempotency_token, is_whatsapp_payload
from channels_sms.models import WebhookReceipt
from channels_sms.tasks import overtook_its_send, schedule_reprocess
from tickets.channels import RawRequest, SignatureError, channel_config, get_adapter
from tickets.inbound_view import InboundWebhookView


class TwilioWebhookView(InboundWebhookView):
    def post(self, request, *args, **kwargs):
        token = idempotency_token(request)
        if token and WebhookReceipt.objects.filter(token=token).exists():
            return self.acknowledge_resend(request)
        # Processing records the token (TwilioAdapter.after_processing), beside the payload's mark.
        return super().post(request, *args, **kwargs)

    def acknowledge_resend(self, request):
        adapter, raw = get_adapter(self.adapter), RawRequest.from_django(request)
        try:
            adapter.verify(raw)  # a known token proves nothing by itself
        except SignatureError as exc:
            return HttpResponse(exc.reason, status=403, content_type="text/plain")
        return adapter.acknowledge(raw, [])


class TwilioStatusView(TwilioWebhookView):
    """One StatusCallback URL for SMS and WhatsApp: the payload says which one sent it, and the
    stored payload names that adapter so a replay parses it the same way."""

    def post(self, request, *args, **kwargs):
        form = QueryDict(request.body, encoding="utf-8")
        preferred = "whatsapp" if is_whatsapp_payload(form) else "sms"
        configured = [key for key in ("sms", "whatsapp") if key in channel_config()]
        self.adapter = preferred if preferred in configured else (configured or [preferred])[0]
        # Checked before processing: the send may be recorded while we process, too late for us.
        self.early = overtook_its_send(request.GET.get("message", ""), form.get("MessageSid", ""))
        return super().post(request, *args, **kwargs)

    def needs_payload_row(self) -> bool:
        return self.early  # received() schedules the payload's reprocessing by its pk

    def received(self, payload, items) -> None:
        if self.early:
            schedule_reprocess(payload.pk)
