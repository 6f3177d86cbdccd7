from django.urls import path

from channels_sms.media import serve_media
from channels_sms.views import TwilioStatusView, TwilioWebhookView

urlpatterns = [
    path("channels/twilio/sms/", TwilioWebhookView.as_view(adapter="sms"), name="twilio-sms"),
    path("channels/twilio/whatsapp/", TwilioWebhookView.as_view(adapter="whatsapp"), name="twilio-whatsapp"),
    path("channels/twilio/status/", TwilioStatusView.as_view(), name="twilio-status"),
    path("channels/twilio/media/<str:token>/", serve_media, name="twilio-media"),
]
