"""The agent console's websocket: push only. One per console tab, authenticated by the agent's
session (AuthMiddlewareStack) and origin-checked (AllowedHostsOriginValidator in asgi.py)."""

from django.db.models import Q

from tickets import events
from tickets.permissions import can_see_event, is_agent
from tickets.realtime import EventStreamConsumer


class ConsoleConsumer(EventStreamConsumer):
    async def connect(self):
        self.user = self.scope.get("user")
        if not is_agent(self.user):
            await self.close(code=4403)
            return
        await self.start_stream()
        await self.accept()

    def stream_groups(self):
        return [events.AGENTS_GROUP]

    def stream_scope(self):
        return Q()  # agents see every ticket's events; can_see_event() narrows per event

    def authorise(self, event):
        return can_see_event(self.user, event)
