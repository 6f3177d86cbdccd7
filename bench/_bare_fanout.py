"""The yardstick for bench/realtime_fanout.py: a minimal Django + Channels app under Daphne, on
the same channel layer as the helpdesk (its in-memory layer; channels_redis' pub/sub layer with
REDIS_URL), doing a bare `group_send` of a payload to every open socket.

    daphne -b 127.0.0.1 -p PORT bench._bare_fanout:application     (REDIS_URL: Redis layer)

POST /send?size=N  -> group_send of a frame of about N bytes to the group "bare"; 204.
ws /ws/             -> joins "bare" and forwards every frame as it is.
"""

import os

import django
from django.conf import settings

REDIS_URL = os.environ.get("REDIS_URL", "")
settings.configure(
    DEBUG=False, SECRET_KEY="bench-only", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
    INSTALLED_APPS=["channels"], MIDDLEWARE=[],
    CHANNEL_LAYERS={"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                "CONFIG": {"hosts": [REDIS_URL],
                                           "prefix": os.environ.get("REDIS_PREFIX", "bare") + "-bare"}}}
    if REDIS_URL else {"default": {"BACKEND": "helpdesk.layers.InMemoryChannelLayer"}},
)
django.setup()

import json  # noqa: E402

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402


class BareConsumer(AsyncWebsocketConsumer):
    groups = ["bare"]

    async def bare_frame(self, message):
        await self.send(text_data=message["frame"])


@csrf_exempt
async def send(request):
    marker = request.GET.get("marker", "")
    frame = json.dumps({"type": "event", "marker": marker, "pad": "x" * int(request.GET.get("size", "300"))})
    await get_channel_layer().group_send("bare", {"type": "bare.frame", "frame": frame})
    return HttpResponse(status=204)


urlpatterns = [path("send", send)]
application = ProtocolTypeRouter({"http": get_asgi_application(),
                                  "websocket": URLRouter([path("ws/", BareConsumer.as_asgi())])})
