"""The one view every provider webhook goes through: verify, keep, process, acknowledge.

Channel apps mount it on their own URLs: InboundWebhookView.as_view(adapter="sms")."""

import logging

from django.conf import settings
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from tickets import services
from tickets.channels import PayloadError, RawRequest, SignatureError, get_adapter

log = logging.getLogger(__name__)


@method_decorator(csrf_exempt, name="dispatch")
class InboundWebhookView(View):
    adapter = ""
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        adapter = get_adapter(self.adapter)
        raw = RawRequest.from_django(request)
        try:
            adapter.verify(raw)
        except SignatureError as exc:
            # Nothing stored: an unauthenticated request is not a customer's message.
            log.warning("%s webhook rejected from %s: %s", self.adapter, request.META.get("REMOTE_ADDR"), exc.reason)
            return HttpResponse(exc.reason, status=403, content_type="text/plain")
        try:
            # HELPDESK_WEBHOOK_INGEST: answer once written (inline) or once stored (worker).
            if settings.HELPDESK_WEBHOOK_INGEST == "worker":
                payload, items = services.accept_request(self.adapter, raw, spool=not self.needs_payload_row())
            else:
                payload, items = services.receive_request(self.adapter, raw)
        except PayloadError as exc:
            return HttpResponse(f"malformed payload: {exc.reason}", status=400, content_type="text/plain")
        self.received(payload, items)
        return adapter.acknowledge(raw, items)

    def needs_payload_row(self) -> bool:
        """True if `received` needs the stored payload's row (its pk) at once: with the ingest
        spool (tickets/ingest_spool.py), a queued payload has none until a worker moves it."""
        return False

    def received(self, payload, items) -> None:
        """A subclass's follow-up once the request is stored and processed: `payload` is the
        stored InboundPayload, `items` what processing made of it (no need to query it again);
        with HELPDESK_WEBHOOK_INGEST=worker, what parsing made of it, written later by a worker
        (and with the ingest spool, `payload` is not saved yet: see needs_payload_row)."""
