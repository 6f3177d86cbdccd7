from django.urls import path

from helpdesk.urls import urlpatterns as helpdesk_urls
from tickets.inbound_view import InboundWebhookView

urlpatterns = [
    path("channels/fake/", InboundWebhookView.as_view(adapter="fake")),
    path("channels/fakesms/", InboundWebhookView.as_view(adapter="fakesms")),
    *helpdesk_urls,
]
