"""The doorbell: after a change commits, ring small channel-layer groups with the new sequence
number and the change's events (read back once, encoded once); a consumer that has everything
before them sends them on from memory, one that has a gap (or a bell without events) reads the
event log (tickets/events.py) for what it has not rendered. Transport only: a lost ring costs
latency, never an event (the watchman in tickets/realtime.py and every reconnect read the log
again). The agents group's consoles hear bells through LocalBells (one walk over this
process's sockets), not one channel message each.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
import weakref
from collections.abc import Callable, Iterable

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

log = logging.getLogger(__name__)


def publish(groups: Iterable[str], seq: int, carry: Callable[[], list[dict] | None] | None = None) -> None:
    """Ring the doorbell. Runs after commit; a lost ring is recovered on the next one or on
    reconnect, so failures are logged, never raised into the request. `carry` loads the events
    the bell carries; it is only called when a ring actually goes out."""
    where = _listeners()
    if where is None:
        return
    layer, server, in_sync_thread = where
    _dispatch(layer, ring_all(layer, list(groups), seq, _load(carry, seq)), server, in_sync_thread)


def push(groups: Iterable[str], message: dict) -> None:
    """Send one channel-layer message to `groups` after commit, the way publish() rings: for a
    push that is not an event of the log (a notification for one agent's `user-<id>` group).
    Like a ring it may be lost; the receiver must be able to read the same state again (the
    notifications app's unread count is re-read on every reconnect)."""
    where = _listeners()
    if where is None:
        return
    layer, server, in_sync_thread = where
    _dispatch(layer, push_all(layer, list(groups), message), server, in_sync_thread)


def _listeners():
    """(layer, inside serve?, in a sync_to_async thread?), or None when nobody can hear a ring
    sent from here: no layer, or a plain thread outside `serve` (the MTA pipe, a command, a
    separate worker) with the embedded in-process layer, which no socket of ours listens to
    (ringing it would only cost a thread wake-up per commit; the server's watchman reads those
    events from the log and rings for them, HELPDESK_EVENT_POLL_SECONDS)."""
    layer = get_channel_layer()
    if layer is None:
        return None
    server = _server_loop is not None and _server_loop.is_running()
    in_sync_thread = getattr(SyncToAsync.threadlocal, "main_event_loop", None) is not None
    if not server and not in_sync_thread and process_local(layer):
        return None
    return layer, server, in_sync_thread


def process_local(layer=None) -> bool:
    """Whether the channel layer reaches only this process (the embedded mode's in-memory one):
    then what another process pushes is never heard here, and only the log tells."""
    return isinstance(layer if layer is not None else get_channel_layer(), InMemoryChannelLayer)


def _dispatch(layer, ring, server: bool, in_sync_thread: bool) -> None:
    if server:
        # Inside `serve`: hand the ring to the server's loop, where the consumers (and the
        # in-memory layer's queues) live. Fire and forget: rings are queued in seq order.
        asyncio.run_coroutine_threadsafe(ring, _server_loop)
    elif in_sync_thread:
        async_to_sync(_await)(ring)  # a sync_to_async thread: asgiref hops to its loop
    else:
        # A plain thread with a shared layer (Redis): a long-lived private loop, instead of a
        # new thread and loop per ring. Rings still in flight when the process exits are
        # waited for (briefly) at exit.
        _in_flight.add(asyncio.run_coroutine_threadsafe(ring, _private_loop()))


def _load(carry, seq):
    if carry is None:
        return None
    try:
        return carry()
    except Exception:  # the bell alone still works: consumers read the log
        log.exception("could not load the events of doorbell %s", seq)
        return None


_server_loop = None
_private = None
_private_lock = threading.Lock()


def use_event_loop(loop) -> None:
    """`serve` registers the server's event loop: rings from its threads are sent from there."""
    global _server_loop
    _server_loop = loop


_in_flight = weakref.WeakSet()


def _private_loop():
    global _private
    with _private_lock:
        if _private is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="event-doorbell", daemon=True).start()
            atexit.register(_drain)
            _private = loop
    return _private


def _drain(timeout=3.0):
    concurrent.futures.wait(list(_in_flight), timeout=timeout)


async def _await(awaitable):
    return await awaitable


async def send_all(layer, groups, message):
    results = await asyncio.gather(*(layer.group_send(g, message) for g in groups), return_exceptions=True)
    for group, result in zip(groups, results, strict=True):
        if isinstance(result, Exception):
            log.error("could not send %s to group %s (seq %s): %r", message.get("type"), group,
                      message.get("seq"), result)


async def push_all(layer, groups, message):
    # A group whose sockets hear it through local_bells (the agents group) has no member on the
    # layer: its sockets get the push through local_bells, like a bell.
    groups = await local_bells.ring(layer, groups, message)
    await send_all(layer, groups, message)


async def ring_all(layer, groups, seq, events=None):
    message = {"type": "events.ring", "seq": seq}
    if events:
        message["events"] = events
        if len(events) > 1:  # a change's events as one websocket frame, for sockets that see them all
            message["batch"] = '{"type": "events", "events": [' + ", ".join(e.frame for e in events) + "]}"
    groups = await local_bells.ring(layer, groups, message)
    await send_all(layer, groups, message)


class LocalBells:
    """The sockets of this process that hear a group's bells straight from the ring: a thousand
    consoles in the agents group. Through the layer, each bell cost every socket a deep copy
    (in-memory) or a decode (Redis), queues, two tasks and Channels' dispatch (60-90 us a
    socket on the loop, ahead of the socket's write); here a socket that can send the carried
    events from memory does it in one loop over the sockets. One that cannot (it is reading the
    log, holds a bell back, or must re-read its agent's roles) gets the bell through its channel
    exactly as before, so its order and the log's authority are unchanged. Listeners:
    `channel_name` and `hear_bell(message)` -> the frames to send now, or None for "through my
    channel".

    The in-memory layer is this process alone: the ring walks the sockets itself. A shared layer
    (Redis) must carry the bell to every process: each process listens to the group on ONE
    channel of its own (one decode per process, not per socket) and walks its sockets."""

    def __init__(self):
        self.groups: dict[str, dict] = {}
        self.hearing: dict[str, _Hearing] = {}  # shared layer: this process's channel per group

    async def add(self, layer, group: str, listener) -> None:
        self.groups.setdefault(group, {})[listener] = None
        if process_local(layer):
            return
        hearing = self.hearing.get(group)
        if hearing is None or not hearing.alive():
            hearing = self.hearing[group] = _Hearing(self, layer, group)
        await asyncio.shield(hearing.ready)  # subscribed before the socket resumes: no bell lost between

    def discard(self, group: str, listener) -> None:
        listeners = self.groups.get(group)
        if listeners is not None:
            listeners.pop(listener, None)
            if not listeners:
                del self.groups[group]
                hearing = self.hearing.pop(group, None)
                if hearing is not None:
                    hearing.task.cancel()

    async def ring(self, layer, groups: list[str], message: dict) -> list[str]:
        """On the in-memory layer, ring this process's listeners of `groups` now; returns the
        groups left for the layer (all of them on a shared layer: every process hears them)."""
        if not self.groups or not process_local(layer):
            return groups
        await self.deliver(layer, [g for g in groups if g in self.groups], message)
        return [g for g in groups if g not in self.groups]

    async def deliver(self, layer, groups: list[str], message: dict) -> None:
        heard = set()
        for group in groups:
            for listener in list(self.groups.get(group, ())):
                if listener in heard:  # in two of the rung groups: one bell is enough
                    continue
                heard.add(listener)
                try:
                    if message.get("type") != "events.ring":  # a push (doorbell.push): its handler
                        await layer.send(listener.channel_name, message)
                        continue
                    frames = listener.hear_bell(message)
                    if frames is None:
                        await layer.send(listener.channel_name, message)
                    else:
                        # Daphne's ASGI send writes without suspending, so nothing else can
                        # send on this socket between the cursor moving and these frames.
                        for frame in frames:
                            await listener.send(text_data=frame)
                except Exception:  # one socket's failure must not silence the others
                    log.exception("could not ring %s (seq %s)", listener.channel_name, message.get("seq"))


class _Hearing:
    """This process's channel in one group of a shared layer, passing its bells to the sockets."""

    def __init__(self, bells: LocalBells, layer, group: str):
        self.loop = asyncio.get_running_loop()
        self.ready = self.loop.create_future()
        self.task = asyncio.ensure_future(self.hear(bells, layer, group))

    def alive(self) -> bool:
        return not self.task.done() and self.loop is asyncio.get_running_loop()

    async def hear(self, bells, layer, group):
        from tickets.events import Carried  # events imports this module

        try:
            channel = await layer.new_channel("bells.")
            await layer.group_add(group, channel)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                self.ready.cancel()
            else:
                self.ready.set_exception(exc)
            raise
        self.ready.set_result(channel)
        try:
            while True:
                message = await layer.receive(channel)
                if message.get("events"):  # decoded as lists: back to tuples once, not per socket
                    message = {**message, "events": Carried.of(message["events"])}
                await bells.deliver(layer, [group], message)
        finally:
            await layer.group_discard(group, channel)


local_bells = LocalBells()


def ring_latest(groups: Iterable[str]) -> None:
    """Ring `groups` up to the latest committed event, outside any change: a socket that has
    just joined new groups (a chat visitor's new ticket) reads what it missed."""
    from tickets.events import current_seq

    publish(list(groups), current_seq())
