"""Which web pages may talk to an inbox: its allowed origins, plus the helpdesk's own pages.

Browsers always send Origin on websocket handshakes and cross-origin fetches; the visitor token
is the real credential, the origin check stops other sites from driving the widget's API with a
visitor's browser."""

from urllib.parse import urlsplit

from django.conf import settings

from livechat.models import Inbox


def normalise(origin: str) -> str:
    return (origin or "").strip().rstrip("/").lower()


def same_site(origin: str, host: str) -> bool:
    """The request's own origin (the demo page, the helpdesk itself)."""
    parts = urlsplit(normalise(origin))
    own = {normalise(settings.HELPDESK_PUBLIC_URL)}
    return bool(parts.netloc) and (parts.netloc == (host or "").lower() or normalise(origin) in own)


def allowed(inbox: Inbox, origin: str, host: str = "") -> bool:
    origin = normalise(origin)
    if not origin or origin == "null":
        return False
    if same_site(origin, host):
        return True
    origins = inbox.origin_list()
    return "*" in origins or origin in origins
