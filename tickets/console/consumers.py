"""The agent console's websocket: push only. One per console tab, authenticated by the agent's
session (AuthMiddlewareStack) and origin-checked (AllowedHostsOriginValidator in asgi.py)."""

from channels.db import database_sync_to_async
from django.db.models import Q

from tickets import events, presence
from tickets.permissions import can_see_event, is_agent
from tickets.realtime import EventStreamConsumer


class ConsoleConsumer(EventStreamConsumer):
    async def connect(self):
        self.user = self.scope.get("user")
        self.agent = await database_sync_to_async(is_agent)(self.user)
        if not self.agent:
            await self.close(code=4403)
            return
        await self.start_stream()
        await database_sync_to_async(presence.join)(self.user, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await super().disconnect(code)
        if getattr(self, "agent", False):
            await database_sync_to_async(presence.leave)(self.channel_name)

    def stream_groups(self):
        return [events.AGENTS_GROUP]

    def stream_scope(self):
        return Q()  # agents see every ticket's events; can_see_event() narrows per event

    def authorise(self, event):
        return can_see_event(self.user, event)
