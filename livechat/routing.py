"""Websocket routes of the chat widget (mounted by helpdesk.asgi, outside the session and
cookie middleware: the visitor is a signed token, checked by the consumer)."""

from django.urls import path

from livechat.consumer import VisitorConsumer

websocket_urlpatterns = [
    path("ws/chat/<slug:inbox>/", VisitorConsumer.as_asgi()),
]
