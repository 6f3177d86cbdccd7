from django.urls import path

from channels_social.views import MetaWebhookView
from tickets.inbound_view import InboundWebhookView

app_name = "channels_social"

urlpatterns = [
    path("channels/meta/webhook/", MetaWebhookView.as_view(adapter="meta"), name="meta-webhook"),
    path("channels/telegram/webhook/", InboundWebhookView.as_view(adapter="telegram"), name="telegram-webhook"),
]
