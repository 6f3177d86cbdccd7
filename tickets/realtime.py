"""Consumer-side half of the event log: resume from a sequence number, then follow the bell.

Protocol (JSON over a websocket), shared by the agent console and the chat widget:
  client -> {"type": "resume", "last_seq": N}   on every (re)connect; N = last seq it rendered
  server -> {"type": "event", "seq": S, "kind": ..., "data": {...}}   in seq order, no gaps
  server -> {"type": "events", "events": [...]}  several events of one change, in seq order
  server -> {"type": "cursor", "seq": S}        nothing new for you up to S (keeps N moving)
  server -> {"type": "reload", "reason": ...}   N is older than the log can replay
Clients drop events whose seq they already rendered, so a replay racing a ring is harmless.
"""

from __future__ import annotations

import asyncio
import json
import logging

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q

from tickets import doorbell, events, safejson

log = logging.getLogger(__name__)

# How long a console socket holds a bell that arrived before an earlier one (two processes, or
# two threads, committing at once) before it gives up waiting and reads the log instead.
GAP_WAIT = 0.2


class _PoolThreadSyncToAsync(DatabaseSyncToAsync):
    """DatabaseSyncToAsync that also hands the thread's connection back through django.db's own
    close_old_connections, which channels.testing's communicators do not stub out (they replace
    channels.db's for as long as any test awaits one; the stub is process-wide, so it also
    covered the watchman's reads). An executor thread that kept its connection died with it when
    its event loop ended, and with the PostgreSQL pool on, that slot never came back (the suite
    ran the pool dry). Never the caller's thread, so never a test's transaction: closing is safe."""

    def thread_handler(self, loop, *args, **kwargs):
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            close_old_connections()


def on_thread_pool(func):
    """Like database_sync_to_async, but on the shared thread pool instead of the one
    thread-sensitive thread: a thousand sockets catching up on the log (or visitors sending)
    must not queue behind each other or behind one write. Each pool thread has its own
    connection, given back (to the pool, or closed when stale) after every call."""
    return _PoolThreadSyncToAsync(func, thread_sensitive=False)


class EventStreamConsumer(AsyncJsonWebsocketConsumer):
    """Subclasses authenticate in `connect()` (then call `start_stream()`), and define which
    groups to listen on, which events are in scope and whether this client may see one."""

    cursor: int | None = None
    # True when every event rings one of this socket's groups (the agents group): then a bell
    # whose first event follows the cursor leaves no gap, and its events can be sent on from
    # memory. A visitor hears only its own tickets' bells, so it cannot tell and reads the log.
    hears_every_event = False

    def stream_groups(self) -> list[str]:
        raise NotImplementedError

    def bell_groups(self) -> list[str]:
        """Groups of stream_groups() that carry nothing but bells: this socket hears them from
        doorbell.local_bells instead of through its own channel."""
        return []

    def stream_scope(self) -> Q:
        raise NotImplementedError

    def authorise(self, event) -> bool:
        raise NotImplementedError

    def authorise_carried(self, item: events.Carried) -> bool | None:
        """authorise() for an event a bell carries (events.carried()), in memory; None: read the
        log instead. Only asked when hears_every_event."""
        return None

    async def start_stream(self):
        self._catch_up_lock = asyncio.Lock()
        self._local = [g for g in self.bell_groups() if self.hears_every_event]
        self._joined = [g for g in self.stream_groups() if g not in self._local]
        for group in self._local:
            await doorbell.local_bells.add(self.channel_layer, group, self)
        for group in self._joined:
            await self.channel_layer.group_add(group, self.channel_name)
        _watchman.join(self.channel_layer)

    async def join_group(self, group: str):
        if group not in self._joined:
            self._joined.append(group)
            await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code):
        if getattr(self, "_held", None) is not None:
            self._held_timer.cancel()
        if hasattr(self, "_joined"):
            _watchman.leave()
        for group in getattr(self, "_local", []):
            doorbell.local_bells.discard(group, self)
        for group in getattr(self, "_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """A frame from the client. Hostile or broken frames (binary, not JSON, nested 100,000
        deep, not an object) get an error frame and the socket stays open; so does a frame
        whose handling fails: one bad frame must not close the socket with 1011."""
        try:
            content = safejson.loads(text_data if text_data is not None else bytes_data or b"", expect=dict)
        except safejson.BadJson as exc:
            await self.send_json({"type": "error", "error": f"malformed frame: {exc.reason}"})
            return
        try:
            await self.receive_json(content, **kwargs)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: a client frame failed", type(self).__name__)
            await self.send_json({"type": "error", "error": "the request failed; please try again"})

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

    async def dispatch(self, message):
        # Channels closes stale database connections (a hop to the one thread-sensitive thread)
        # before every handler. A bell passed on from memory touches no database, and every log
        # read here goes through DatabaseSyncToAsync, which closes stale connections itself: a
        # bell to a thousand consoles must not queue a thousand hops.
        if message.get("type") == "events.ring":
            await self.events_ring(message)
        else:
            await super().dispatch(message)

    def hear_bell(self, message) -> list[str] | None:
        """A bell from doorbell.local_bells, on the loop, with no await: the frames to send now
        (the cursor already moved past them), or None to take the bell through this socket's
        channel and events_ring() as ever (busy reading the log, holding a bell back, a gap, or
        an event that needs a query)."""
        if self.cursor is None or message["seq"] <= self.cursor:
            return []  # not resumed yet (its resume reads the log), or has it already
        if (not message.get("events") or self._catch_up_lock.locked() or getattr(self, "_held", None)
                or not self.ready_for_bell()):
            return None
        return self.carried_frames(message)

    def ready_for_bell(self) -> bool:
        """Whether authorise_carried() can answer now without a query."""
        return True

    async def events_ring(self, message):
        # The bell: something up to `seq` is committed. Ignore it until the client has said
        # where it stands (its resume triggers the catch-up).
        if self.cursor is not None and message["seq"] > self.cursor:
            if self.hears_every_event and message.get("events"):
                message = {**message, "events": events.Carried.of(message["events"])}
                if message["events"][0].seq > self.cursor + 1:
                    self._hold(message)
                    return
                if await self.pass_on(message):
                    await self._release_held()
                    return
            # Rung after commit, and seq order is commit order: all up to it can be read.
            await self.catch_up(high_water=message["seq"], check_gap=False)

    def _hold(self, message):
        """A bell whose events do not follow the cursor: usually an earlier bell is a moment
        behind it, so keep it (GAP_WAIT at most) rather than read the log at once."""
        held = getattr(self, "_held", None)
        if held is None:
            held = self._held = []
            self._held_timer = asyncio.get_running_loop().call_later(
                GAP_WAIT, lambda: asyncio.ensure_future(self._give_up_waiting()))
        held.append(message)

    async def _release_held(self):
        """Pass on the held bells that now follow the cursor, in seq order."""
        held = getattr(self, "_held", None)
        while held:
            held.sort(key=lambda m: m["events"][0].seq)
            if held[0]["events"][0].seq > self.cursor + 1:
                return  # still a gap: wait for its bell (or the timer)
            first = held.pop(0)
            if not await self.pass_on(first):  # an event needs the log: read up to the last held
                high_water = max(m["seq"] for m in [first, *held])
                held.clear()
                await self.catch_up(high_water=high_water, check_gap=False)
                break
        if held is not None:
            self._held_timer.cancel()
            self._held = None

    async def _give_up_waiting(self):
        held, self._held = getattr(self, "_held", None), None
        if held and self.cursor is not None:
            await self.catch_up(high_water=max(m["seq"] for m in held), check_gap=False)

    async def pass_on(self, message) -> bool:
        """Send the events the bell carries without touching the database, when they follow
        the cursor with no gap and each can be authorised in memory. False: read the log (a
        bell was lost or is late, or an event needs a query), exactly as on a reconnect."""
        async with self._catch_up_lock:
            frames = self.carried_frames(message)
            if frames is None:
                return False
            for frame in frames:
                await self.send(text_data=frame)
            return True

    def carried_frames(self, message) -> list[str] | None:
        """The frames of a bell's carried events for this socket, and the cursor moved past
        them; None (cursor untouched) when they do not follow the cursor or one needs a query."""
        carried, seq = events.Carried.of(message["events"]), message["seq"]
        if seq <= self.cursor:
            return []
        if carried[0].seq > self.cursor + 1:
            return None
        fresh = [item for item in carried if item.seq > self.cursor]
        verdicts = [self.authorise_carried(item) for item in fresh]
        if None in verdicts:
            return None
        sent = [item for item, allowed in zip(fresh, verdicts, strict=True) if allowed]
        if "batch" in message and len(sent) == len(carried):
            frames = [message["batch"]]  # one frame instead of one per event
        else:
            frames = [item.frame for item in sent]
        self.cursor = seq
        if not sent or sent[-1].seq != seq:
            frames.append(json.dumps({"type": "cursor", "seq": seq}))
        return frames

    def read_log(self, since: int, high_water: int | None, check_gap: bool) -> tuple[list[dict], int]:
        """catch_up()'s read of the log, on a pool thread: the events after `since` this client
        may see, and the new cursor (events.events_since). A subclass may read more in the same
        hop."""
        return events.events_since(since, self.stream_scope(), self.authorise, high_water=high_water,
                                   check_gap=check_gap)

    async def catch_up(self, high_water: int | None = None, check_gap: bool = True):
        async with self._catch_up_lock:
            if high_water is not None and high_water <= self.cursor:
                return
            try:
                batch, cursor = await on_thread_pool(self.read_log)(self.cursor, high_water, check_gap)
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


def running_task(task: asyncio.Task | None, start) -> asyncio.Task:
    """A process-wide background task (the watchman, the roles keeper): `task` while it runs on
    this loop, else a new one of `start()`. A task of a loop that has ended (its sockets never
    disconnected, as in a test that failed) is not done and never runs again."""
    loop = asyncio.get_running_loop()
    if task is None or task.done() or task.get_loop() is not loop:
        return loop.create_task(start())
    return task


def stop_task(task: asyncio.Task) -> None:
    if task.get_loop() is asyncio.get_running_loop():  # a loop that has ended cancels nothing
        task.cancel()


class Watchman:
    """A lost doorbell (a layer message dropped under load, or a write from another process in
    the embedded mode, such as the MTA pipe) is caught by one task per process that looks at the
    log every HELPDESK_EVENT_POLL_SECONDS and rings again for what it finds. Its cost grows with
    the number of events, not of sockets; a socket that already has an event ignores its ring."""

    def __init__(self):
        self.task, self.sockets = None, 0

    def join(self, layer):
        self.sockets += 1
        if settings.HELPDESK_EVENT_POLL_SECONDS > 0:
            self.task = running_task(self.task, lambda: self.watch(layer))

    def leave(self):
        self.sockets -= 1
        if self.sockets <= 0 and self.task is not None:
            stop_task(self.task)
            self.task, self.sockets = None, 0

    async def watch(self, layer):
        last = await on_thread_pool(events.current_seq)()
        while True:
            await asyncio.sleep(settings.HELPDESK_EVENT_POLL_SECONDS)
            try:
                rings, last = await on_thread_pool(events.rings_since)(last)
                for groups, seq, carried in rings:
                    await doorbell.ring_all(layer, groups, seq, carried)
            except Exception:  # a transient database error must not stop the watch
                log.exception("event log watch failed")


_watchman = Watchman()
