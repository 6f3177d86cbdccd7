"""The agent console's websocket. One per console tab, authenticated by the agent's session
(AuthMiddlewareStack) and origin-checked (AllowedHostsOriginValidator in asgi.py).

Two kinds of traffic share it:
* the event stream (tickets.realtime): resume from the last seq, replay, follow the bell;
* presence, which is deliberately NOT in the event log (it is ephemeral and would flood it):
    client -> {"type": "view", "ticket": id | null}   this tab shows that ticket (or none)
    client -> {"type": "typing", "ticket": id}        the agent is typing a reply there
    client -> {"type": "ping"}                        heartbeat, every 30 s
    server -> {"type": "notice", ...}                 for this agent alone (see user_notice)
    server -> {"type": "presence", "ticket": id, "viewers": [{"user", "name", "typing"}]}
  Rows live in AgentPresence (the database), so agents on different Daphne processes see each
  other; the channel-layer group `presence-<ticket>` only rings "re-read the viewers".
"""

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.db.models import Q

from tickets import events, presence
from tickets.policy import (
    agent_roles,
    can_see_carried_event,
    can_see_event,
    can_see_ticket,
    is_agent,
)
from tickets.realtime import EventStreamConsumer, on_thread_pool, running_task, stop_task

log = logging.getLogger(__name__)

_refreshing: dict[int, asyncio.Future] = {}


async def _fresh_roles(user_id: int):
    """The agent's shared loaded copy, re-read when stale by ONE task that all of the agent's
    sockets await: a bell to a thousand tabs must not queue a thousand reads on the pool."""
    max_age = settings.HELPDESK_POLICY_REFRESH_SECONDS
    user = agent_roles.cached(user_id, max_age)
    if user is not None:
        return user
    task = _refreshing.get(user_id)
    if task is None:
        task = _refreshing[user_id] = asyncio.ensure_future(on_thread_pool(agent_roles.get)(user_id, max_age))
        task.add_done_callback(lambda _task: _refreshing.pop(user_id, None))
    return await asyncio.shield(task)


class RolesKeeper:
    """Re-reads, in the background, the loaded roles of the agents with open consoles before
    they are HELPDESK_POLICY_REFRESH_SECONDS old: otherwise the first bell after that age finds
    every agent's copy stale at once and a thousand sockets wait for a couple of hundred reads
    (a slow bell every refresh period). One agent at a time, one task per process; the bell
    still re-reads a copy it finds stale (ready_for_bell)."""

    def __init__(self):
        self.agents: dict[int, int] = {}
        self.task = None

    def join(self, user_id: int) -> None:
        self.agents[user_id] = self.agents.get(user_id, 0) + 1
        self.task = running_task(self.task, self.keep)

    def leave(self, user_id: int) -> None:
        left = self.agents.get(user_id, 0) - 1
        if left > 0:
            self.agents[user_id] = left
        else:
            self.agents.pop(user_id, None)
        if not self.agents and self.task is not None:
            stop_task(self.task)
            self.task = None

    async def keep(self):
        while True:
            await asyncio.sleep(max(settings.HELPDESK_POLICY_REFRESH_SECONDS / 2, 1.0))
            await self.refresh_older_than(settings.HELPDESK_POLICY_REFRESH_SECONDS / 2)

    async def refresh_older_than(self, age: float) -> None:
        for user_id in list(self.agents):
            if age > 0 and agent_roles.cached(user_id, age) is None:
                try:
                    await on_thread_pool(agent_roles.get)(user_id, age)
                except Exception:  # a transient database error: the bell re-reads it then
                    log.exception("could not refresh the roles of agent %s", user_id)


_roles_keeper = RolesKeeper()


def presence_group(ticket_id: int) -> str:
    return f"presence-{ticket_id}"


class ConsoleConsumer(EventStreamConsumer):
    viewing: int | None = None
    hears_every_event = True  # every event rings the agents group

    async def connect(self):
        self.user = self.scope.get("user")
        self.agent = await database_sync_to_async(is_agent)(self.user)
        if not self.agent:
            await self.close(code=4403)
            return
        # From here on the agent's shared, loaded copy (see policy.AgentRoles).
        shared = await on_thread_pool(agent_roles.share)(self.user, settings.HELPDESK_POLICY_REFRESH_SECONDS)
        self.user = self.scope["user"] = shared  # one loaded copy per agent, not one per tab
        _roles_keeper.join(self.user.pk)
        await self.start_stream()
        await database_sync_to_async(presence.join)(self.user, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await super().disconnect(code)
        if getattr(self, "agent", False):
            _roles_keeper.leave(self.user.pk)
            left = await database_sync_to_async(presence.leave)(self.channel_name)
            if left:
                await self.ring_presence(left)

    def stream_groups(self):
        return [events.AGENTS_GROUP, events.user_group(self.user.pk)]

    def bell_groups(self):
        return [events.AGENTS_GROUP]  # the user group also carries pushes (user_notice)

    def stream_scope(self):
        return Q()  # agents see every ticket's events; can_see_event() narrows per event

    def authorise(self, event):
        return can_see_event(self.user, event)

    def authorise_carried(self, item):
        return can_see_carried_event(self.user, item.ticket, item.team)

    def ready_for_bell(self):
        user = agent_roles.cached(self.user.pk, settings.HELPDESK_POLICY_REFRESH_SECONDS)
        if user is None:
            return False  # stale: the bell goes through pass_on(), which re-reads it
        self.user = user
        return True

    async def pass_on(self, message):
        # Authorising a bell's events is a set lookup on the agent's loaded teams and
        # permissions, read again (once per agent) when older than HELPDESK_POLICY_REFRESH_SECONDS.
        self.user = await _fresh_roles(self.user.pk)
        return await super().pass_on(message)

    async def user_notice(self, message):
        """A push for this agent alone (doorbell.push to events.user_group): its frame goes out
        as it is; the pushing app has already decided that this agent may see it."""
        await self.send(text_data=message["frame"])

    async def receive_command(self, content):
        kind = content.get("type")
        if kind == "ping":
            await database_sync_to_async(presence.heartbeat)(self.channel_name)
            await self.send_json({"type": "pong"})
        elif kind == "view":
            await self.view(content.get("ticket"))
        elif kind == "typing":
            if self.viewing is not None and content.get("ticket") == self.viewing:
                await database_sync_to_async(presence.typing)(self.channel_name, bool(content.get("active", True)))
                await self.ring_presence(self.viewing)
        else:
            await super().receive_command(content)

    async def view(self, ticket_id):
        if ticket_id is not None:
            try:
                ticket_id = int(ticket_id)
            except (TypeError, ValueError):
                await self.send_json({"type": "error", "error": "ticket must be an integer"})
                return
            if not await database_sync_to_async(can_see_ticket)(self.user, ticket_id):
                await self.send_json({"type": "error", "error": "not allowed"})
                return
        before = await database_sync_to_async(presence.viewing)(self.channel_name, ticket_id)
        if self.viewing is not None and self.viewing != ticket_id:
            await self.channel_layer.group_discard(presence_group(self.viewing), self.channel_name)
            self._joined.remove(presence_group(self.viewing))
        self.viewing = ticket_id
        if ticket_id is not None:
            await self.join_group(presence_group(ticket_id))
            await self.ring_presence(ticket_id)
        if before and before != ticket_id:
            await self.ring_presence(before)

    async def ring_presence(self, ticket_id: int):
        await self.channel_layer.group_send(presence_group(ticket_id), {"type": "presence.ring", "ticket": ticket_id})

    async def presence_ring(self, message):
        ticket_id = message["ticket"]
        if ticket_id != self.viewing:
            return
        viewers = await database_sync_to_async(presence.viewers)(ticket_id)
        await self.send_json({"type": "presence", "ticket": ticket_id, "viewers": viewers})
