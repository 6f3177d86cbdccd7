"""Consumer-side half of the event log: resume from a sequence number, then follow the bell.

Protocol (JSON over a websocket), shared by the agent console and the chat widget:
  client -> {"type": "resume", "last_seq": N}   on every (re)connect; N = last seq it rendered
  server -> {"type": "event", "seq": S, "kind": ..., "data": {...}}   in seq order, no gaps
  server -> {"type": "cursor", "seq": S}        nothing new for you up to S (keeps N moving)
  server -> {"type": "reload", "reason": ...}   N is older than the log can replay
Clients drop events whose seq they already rendered, so a replay racing a ring is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import random

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db.models import Q

from tickets import events

log = logging.getLogger(__name__)


class EventStreamConsumer(AsyncJsonWebsocketConsumer):
    """Subclasses authenticate in `connect()` (then call `start_stream()`), and define which
    groups to listen on, which events are in scope and whether this client may see one."""

    cursor: int | None = None

    def stream_groups(self) -> list[str]:
        raise NotImplementedError

    def stream_scope(self) -> Q:
        raise NotImplementedError

    def authorise(self, event) -> bool:
        raise NotImplementedError

    async def start_stream(self):
        self._catch_up_lock = asyncio.Lock()
        self._joined = list(self.stream_groups())
        for group in self._joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self._poller = asyncio.ensure_future(self._check_mailbox_now_and_then())

    async def _check_mailbox_now_and_then(self):
        """A lost doorbell (a dropped layer message, or a write from another process in the
        embedded mode, such as the MTA pipe) is caught by looking at the log every so often."""
        interval = settings.HELPDESK_EVENT_POLL_SECONDS
        while interval > 0:
            await asyncio.sleep(interval * random.uniform(0.8, 1.2))
            if self.cursor is not None:
                try:
                    await self.catch_up()
                except Exception:  # a transient database error must not kill the socket
                    log.exception("periodic catch-up failed")

    async def join_group(self, group: str):
        if group not in self._joined:
            self._joined.append(group)
            await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code):
        poller = getattr(self, "_poller", None)
        if poller is not None:
            poller.cancel()
        for group in getattr(self, "_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "resume":
            try:
                last_seq = int(content.get("last_seq") or 0)
            except (TypeError, ValueError):
                await self.send_json({"type": "error", "error": "last_seq must be an integer"})
                return
            self.cursor = max(last_seq, 0)
            await self.catch_up()
        else:
            await self.receive_command(content)

    async def receive_command(self, content):
        await self.send_json({"type": "error", "error": f"unknown message type {content.get('type')!r}"})

    async def events_ring(self, message):
        # The bell: only a hint that something after `seq` exists. Ignore it until the client
        # has said where it stands (its resume triggers the catch-up).
        if self.cursor is not None and message["seq"] > self.cursor:
            await self.catch_up()

    async def catch_up(self):
        async with self._catch_up_lock:
            try:
                batch, cursor = await database_sync_to_async(events.events_since)(
                    self.cursor, self.stream_scope(), self.authorise
                )
            except events.Gap as gap:
                log.info("client behind the event log: %s", gap)
                await self.send_json({"type": "reload", "reason": str(gap)})
                await self.close(code=4000)
                return
            for item in batch:
                await self.send_json(item)
            if cursor > self.cursor:
                self.cursor = cursor
                if not batch or batch[-1]["seq"] != cursor:
                    await self.send_json({"type": "cursor", "seq": cursor})
