"""Websocket routes of the chat widget (mounted by helpdesk.asgi)."""

websocket_urlpatterns = []
