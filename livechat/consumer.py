"""The visitor's websocket: /ws/chat/<inbox>/. No cookies and no session middleware: the page
origin must be one the inbox allows, and the first frame must carry the signed visitor token.

  client -> {"type": "auth", "token": T, "history": true}
  server -> {"type": "ready", "online": bool, "name": ..., "has_email": bool,
             "history": {"seq": S, "messages": [...]}}          (history only when asked)
  then the event-log protocol of tickets.realtime (resume / event / cursor / reload), plus
  client -> {"type": "send", "client_id": C, "text": ...}  server -> {"type": "ack", ...}
  client -> {"type": "contact", "name": ..., "email": ...} / {"type": "transcript", "email": ...}
  client -> {"type": "open", "open": bool} (follow agent typing while the panel is open)
  client -> {"type": "ping"}  server -> {"type": "pong"}

A visitor only ever receives public events of the tickets its chat address owns
(livechat.Conversation); authorise() checks that again for every event."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext as _

from livechat import conversation, inbox_cache, online, origins, presence, ratelimit, visitors
from livechat.models import Conversation
from tickets import events
from tickets import presence as agent_presence
from tickets.models import Identity
from tickets.people import display_name
from tickets.realtime import EventStreamConsumer, on_thread_pool

log = logging.getLogger(__name__)

AUTH_TIMEOUT = 10  # seconds a socket may stay open without presenting a token
SEEN_EVERY = 45  # seconds between last_seen_at writes (heartbeats arrive every 30 s)
TYPING_POLL = 2.0


def _authenticate(token, inbox_key):
    session = visitors.session_for_token(token, inbox_key)
    return session, *_owners(session.address)


def _owners(address):
    """The chat address's tickets with their customers (visitors.ticket_owners), its customer,
    and whether they are mixed."""
    owners = visitors.ticket_owners(address)
    # Without a ticket there is no chat identity yet (a visitor's first message creates both).
    customer_id = (Identity.objects.filter(channel="chat", address=address)
                   .values_list("customer_id", flat=True).first()) if owners else None
    # A ticket moved to another customer: the customer's chain of events no longer covers it.
    mixed = any(owner != customer_id for owner in owners.values())
    return owners, customer_id, mixed


def _ready(session, inbox_key, want_history, owners):
    """The ready frame; with the history, whether the customers of the visitor's tickets are
    still `owners` (read at authentication) as of the history's seq."""
    ready = {"type": "ready", "online": online.is_online(inbox_key), "name": session.name,
             "has_email": bool(session.email)}
    if not want_history:
        return ready, False
    ready["history"], now = conversation.history_and_owners(session)
    return ready, now == owners


# SQLite commits one writer at a time, and a writer that finds the lock taken waits in SQLite's
# busy handler, which sleeps in steps of up to 100 ms and so wakes late: at 50 sends/s the
# visitors' sends, each on its own pool thread, made the round trip's p99. They take turns on
# this lock instead, which hands over at once. PostgreSQL writes them side by side.
_sqlite_sends = threading.Lock()


def _send(session, content, language=""):
    if not ratelimit.allow(f"send:{session.address}", settings.LIVECHAT_RATE_LIMIT_PER_MINUTE):
        raise conversation.Refused(_("You are sending messages too fast. Please wait a moment."), 429)
    with _sqlite_sends if connection.vendor == "sqlite" else contextlib.nullcontext():
        message = conversation.send(session, content.get("client_id"), content.get("text", ""), language=language)
    return message, message.customer_id


def _agent_typing(address):
    from django.utils import timezone

    from tickets.models import AgentPresence

    now = timezone.now()
    row = (AgentPresence.objects.filter(ticket_id__in=Conversation.objects.filter(address=address)
                                        .values("ticket_id"), typing_until__gt=now,
                                        last_seen__gte=now - agent_presence.PRESENCE_TIMEOUT)
           .select_related("user").first())
    return display_name(row.user) if row else ""


class VisitorConsumer(EventStreamConsumer):
    session = None
    _fresh_seq = None
    _early_bell = 0
    _log_only = False  # True: its tickets are not all its customer's, every bell reads the log
    _read_owners = None  # what read_log() found: (tickets with their customers, customer, mixed)

    async def connect(self):
        headers = dict(self.scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1")
        host = headers.get(b"host", b"").decode("latin-1")
        self.inbox_key = self.scope["url_route"]["kwargs"]["inbox"]
        inbox = await inbox_cache.active_inbox(self.inbox_key)
        if inbox is None or not origins.allowed(inbox, origin, host):
            log.info("chat socket refused: inbox %s, origin %r", self.inbox_key, origin)
            await self.close(code=4403)
            return
        await self.accept()
        self._auth_timer = asyncio.get_running_loop().call_later(
            AUTH_TIMEOUT, lambda: asyncio.ensure_future(self._close_if_anonymous()))

    async def _close_if_anonymous(self):
        if self.session is None:
            await self.close(code=4401)

    async def disconnect(self, code):
        await super().disconnect(code)
        if getattr(self, "_auth_timer", None):
            self._auth_timer.cancel()
        if getattr(self, "_typing", None):
            self._typing.cancel()
        if self.session is not None:
            presence.counts.closed(self.session.pk)

    # --- the stream's scope ------------------------------------------------------------------
    def stream_groups(self):
        groups = [visitors.address_group(self.session.address)]
        groups += [events.ticket_group(t) for t in self._tickets]
        if self._customer:
            groups.append(events.customer_group(self._customer))
        return groups

    def stream_scope(self):
        mine = Conversation.objects.filter(address=self.session.address).values("ticket_id")
        return Q(ticket__in=mine, public=True)

    def authorise(self, event):
        return bool(event.public and event.ticket_id and Conversation.objects.filter(
            address=self.session.address, ticket_id=event.ticket_id).exists())

    async def send_json(self, content, close=False):
        if content.get("type") == "event":
            content = {**content, "data": _visitor_view(content)}
            if content["ticket"] not in self._tickets:  # a new ticket of ours (e.g. after close)
                self._tickets.append(content["ticket"])
                await self.join_group(events.ticket_group(content["ticket"]))
            content.pop("customer", None)
        await super().send_json(content, close=close)

    # --- frames from the widget ----------------------------------------------------------------
    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        if self.session is None:
            if content.get("type") != "auth":
                await self.close(code=4401)
                return
            try:
                self.session, owners, self._customer, self._log_only = await on_thread_pool(_authenticate)(
                    content.get("token"), self.inbox_key)
            except visitors.InvalidToken:
                await self.send_json({"type": "error", "error": "invalid_token"})
                await self.close(code=4401)
                return
            self._tickets = list(owners)
            self._auth_timer.cancel()
            self._auth_timer = None  # a cancelled timer still holds this consumer's callback
            self._seen_at = time.monotonic()
            presence.counts.opened(self.session.pk)
            # Groups first, then the history's seq: every event after that seq commits after
            # this socket listens, so its bell reaches it and the resume need not read the log,
            # if its tickets' customers are still those it listens for (a merge or its undo in
            # between, unheard, could have moved one: then the resume reads the log, which
            # reads them again).
            await self.start_stream()
            ready, same = await on_thread_pool(_ready)(self.session, self.inbox_key, bool(content.get("history")),
                                                       owners)
            self._fresh_seq = ready["history"]["seq"] if same else None
            await self.send_json(ready)
            return
        if content.get("type") == "resume" and self._resumes_fresh(content.get("last_seq")):
            return
        await super().receive_json(content, **kwargs)

    def _resumes_fresh(self, last_seq) -> bool:
        """The widget's first resume names the seq its history was read at: if no bell above it
        has rung since this socket joined its groups, there is nothing to read (a lost bell is
        rung again by the watchman, as for any socket). Anything else reads the log."""
        fresh, self._fresh_seq = self._fresh_seq, None
        if fresh is None or last_seq != fresh or self._early_bell > fresh:
            return False
        self.cursor = fresh
        return True

    async def events_ring(self, message):
        if self.cursor is None:  # before the resume: remember that a bell rang (_resumes_fresh)
            self._early_bell = max(self._early_bell, message["seq"])
            return
        if message["seq"] > self.cursor and message.get("events"):
            message = {**message, "events": events.Carried.of(message["events"])}
            if await self._pass_on_mine(message):
                return
        await super().events_ring(message)  # read the log, exactly as on a reconnect

    def read_log(self, since, high_water, check_gap):
        """The log read, and (in the same hop, after it) the customers of the visitor's tickets
        again: the events the cursor now passes may include a merge or its undo, which moved one
        of them to another customer without the socket hearing of it (its bell late, lost, or
        not carrying the events). A socket reading the log for good needs no more."""
        found = super().read_log(since, high_water, check_gap)
        if not self._log_only:
            self._read_owners = _owners(self.session.address)
        return found

    async def catch_up(self, high_water=None, check_gap=True):
        await super().catch_up(high_water=high_water, check_gap=check_gap)
        read, self._read_owners = self._read_owners, None
        if read is not None:
            await self._know_owners(*read)

    async def _know_owners(self, owners, customer_id, mixed):
        """What the socket knows of its tickets' customers, as read from the database: a ticket of
        another customer, or a change of its customer, means reading the log for good (as in
        _handle_send); a new ticket is joined."""
        for ticket in owners:
            if ticket not in self._tickets:
                self._tickets.append(ticket)
                await self.join_group(events.ticket_group(ticket))
        if customer_id != self._customer:
            self._log_only = self._log_only or self._customer is not None
            self._customer = customer_id
            if customer_id is not None:
                await self.join_group(events.customer_group(customer_id))
        self._log_only = self._log_only or mixed

    async def chat_forget(self, message):
        """The visitor's data was erased (livechat.privacy): its tickets are no longer its own."""
        await self.close(code=4401)

    async def _pass_on_mine(self, message) -> bool:
        """Send the bell's events of this visitor's tickets from memory. A visitor hears only its
        own bells, so a gap in the global seq says nothing; what it needs is every public event
        of its tickets up to the bell. Its tickets are its customer's, and each carried event
        names its customer's previous link (`prev`: a public event, or a customer-wide one such
        as a merge or its undo, which can move a ticket to another customer): when the first of
        the customer's events in the bell follows nothing newer than the cursor, nothing of ours
        is missing and none of its tickets has left the customer unseen. False (read the log):
        no customer yet, a public event of a ticket this socket does not know (a new ticket of
        ours, or another customer's: the log decides), one of its tickets belongs to another
        customer (then for good: _log_only), a customer-wide event of its customer, or a gap (a
        lost or late bell). The log read then reads its tickets' customers again (read_log)."""
        async with self._catch_up_lock:
            carried, seq = message["events"], message["seq"]
            if seq <= self.cursor:
                return True
            if self._customer is None or self._log_only:
                return False
            fresh = [item for item in carried if item.seq > self.cursor]
            if any(item.ticket in self._tickets and item.customer != self._customer for item in fresh):
                self._log_only = True  # one of its tickets moved to another customer: the log, from now on
                return False
            if any(item.ticket is None and item.customer == self._customer for item in fresh):
                return False  # a merge, its undo...: whose are its tickets now? (read_log)
            mine = [item for item in fresh if item.public]
            if any(item.ticket not in self._tickets or item.customer != self._customer for item in mine):
                return False
            first = next((item for item in fresh if item.customer == self._customer), None)
            if first is None or (first.prev is not None and first.prev > self.cursor):
                return False
            for item in mine:
                await self.send_json(json.loads(item.frame))
            self.cursor = seq
            if not mine or mine[-1].seq != seq:
                await self.send_json({"type": "cursor", "seq": seq})
            return True

    async def receive_command(self, content):
        kind = content.get("type")
        if kind == "ping":
            if time.monotonic() - self._seen_at > SEEN_EVERY:
                self._seen_at = time.monotonic()
                presence.counts.seen(self.session.pk)
            await self.send_json({"type": "pong", "online": await on_thread_pool(online.is_online)(self.inbox_key)})
        elif kind == "send":
            await self._handle_send(content)
        elif kind == "contact":
            await self._reply(content, "contact", lambda: {
                "has_email": bool(conversation.set_contact(self.session, content.get("name", ""),
                                                           content.get("email", "")).email)})
        elif kind == "transcript":
            await self._reply(content, "transcript", lambda: {
                "email": conversation.request_transcript(self.session, content.get("email", ""))})
        elif kind == "open":
            self._follow_typing(bool(content.get("open")))
        elif kind == "auth":
            await self.send_json({"type": "error", "error": "already authenticated"})
        else:
            await super().receive_command(content)

    async def _handle_send(self, content):
        client_id = content.get("client_id")
        try:
            language = dict(self.scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
            message, customer_id = await on_thread_pool(_send)(self.session, content, language)
        except conversation.Refused as refused:
            await self.send_json({"type": "error", "client_id": client_id, "error": refused.reason})
            return
        joined = message.ticket_id not in self._tickets or customer_id != self._customer
        if message.ticket_id not in self._tickets:
            self._tickets.append(message.ticket_id)
            await self.join_group(events.ticket_group(message.ticket_id))
        if customer_id != self._customer:
            self._log_only = self._log_only or self._customer is not None  # (see _pass_on_mine)
            self._customer = customer_id
            await self.join_group(events.customer_group(customer_id))
        await self.send_json({"type": "ack", "client_id": client_id, "id": message.pk,
                              "ticket": message.ticket_id, "created_at": message.created_at.isoformat()})
        if joined and self.cursor is not None:
            await self.catch_up()  # the bell of a brand-new ticket rang before we joined its group

    async def _reply(self, content, kind, action):
        try:
            result = await database_sync_to_async(action)()
        except conversation.Refused as refused:
            await self.send_json({"type": "error", "request": kind, "error": refused.reason})
            return
        await self.send_json({"type": kind, **result})

    # --- agent typing (polled only while the visitor has the panel open) -------------------------
    def _follow_typing(self, on):
        task = getattr(self, "_typing", None)
        if on and task is None:
            self._typing = asyncio.ensure_future(self._poll_typing())
        elif not on and task is not None:
            task.cancel()
            self._typing = None

    async def _poll_typing(self):
        shown = ""
        while True:
            name = await database_sync_to_async(_agent_typing)(self.session.address)
            if name != shown:
                shown = name
                await self.send_json({"type": "typing", "name": name, "typing": bool(name)})
            await asyncio.sleep(TYPING_POLL)


def _visitor_view(event: dict) -> dict:
    data = event.get("data") or {}
    if event.get("kind") in ("message.created", "message.updated"):
        return conversation.public_message(None, data)
    if event.get("kind") == "message.status":
        return {"id": data.get("id"), "status": data.get("status")}
    if data.get("rate_path"):  # a satisfaction survey for this chat (csat.sent): the rating card
        return {"rate_path": data["rate_path"]}
    return {}
