"""ASGI entry point: HTTP through Django, websockets through Channels.

The console socket rides on the agent's session cookie (tickets/console/socket_auth.py) and
checks the Origin; the chat widget's
socket has its own route and middleware (a signed visitor token, never cookies), defined in
livechat.routing."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from helpdesk.http_threads import PersistentThreads  # noqa: E402
from livechat.routing import websocket_urlpatterns as livechat_routes  # noqa: E402
from tickets.console.consumers import ConsoleConsumer  # noqa: E402
from tickets.console.socket_auth import SessionUserMiddleware  # noqa: E402

console = AllowedHostsOriginValidator(SessionUserMiddleware(ConsoleConsumer.as_asgi()))

application = ProtocolTypeRouter(
    {
        # Views on a few threads that keep their database connections (helpdesk/http_threads.py)
        "http": PersistentThreads(django_asgi_app, settings.HELPDESK_HTTP_THREADS),
        "websocket": URLRouter([path("ws/console/", console), *livechat_routes]),
    }
)
