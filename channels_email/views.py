"""The webhook view for ESPs: the helpdesk's InboundWebhookView, plus what ESPs expect of an
endpoint (a HEAD probe when the webhook is configured, Amazon SNS's 401 basic-auth challenge)."""

from django.http import HttpResponse

from tickets.inbound_view import InboundWebhookView


class EmailWebhookView(InboundWebhookView):
    http_method_names = ["post", "head"]

    def head(self, request, *args, **kwargs):
        return HttpResponse()

    def post(self, request, *args, **kwargs):
        if "/amazon_ses/" in request.path and not request.META.get("HTTP_AUTHORIZATION"):
            # SNS only sends basic auth after a 401 challenge.
            response = HttpResponse(status=401)
            response["WWW-Authenticate"] = 'Basic realm="Anymail WEBHOOK_SECRET"'
            return response
        return super().post(request, *args, **kwargs)
