"""Webhook endpoints. Both go through tickets.inbound_view.InboundWebhookView (verify, keep the raw
payload, parse, ingest, acknowledge); Meta's also answers the subscription handshake."""

import logging

from django.conf import settings
from django.http import HttpResponse

from tickets.channels import BaseAdapter
from tickets.inbound_view import InboundWebhookView

log = logging.getLogger(__name__)


class MetaWebhookView(InboundWebhookView):
    """GET: Meta's verification handshake when the webhook is subscribed (echo hub.challenge
    if hub.verify_token is ours). POST: signed events for Messenger, Instagram and WhatsApp."""

    http_method_names = ["get", "post"]

    def get(self, request, *args, **kwargs):
        token = getattr(settings, "META_VERIFY_TOKEN", "")
        if (request.GET.get("hub.mode") == "subscribe" and token
                and BaseAdapter.secrets_match(request.GET.get("hub.verify_token", ""), token)):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        log.warning("Meta webhook handshake refused from %s", request.META.get("REMOTE_ADDR"))
        return HttpResponse("verification failed", status=403, content_type="text/plain")
