"""The event log: every visible change is an Event row, and all pushes go out from here.

The channel layer delivers at most once and drops under load, so it is a doorbell, not a
mailbox: after commit we ring small groups with the new sequence number only, and a consumer
that hears the bell reads what it has not yet rendered from the Event table (authorised event
by event). A client reconnecting says "I have rendered up to N" and gets the rest replayed the
same way, or "reload" when N is older than the table remembers. This is Zulip's
queue_id/last_event_id idea on our own database.

This module is the log (write and read); the ring itself is tickets/doorbell.py (transport).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.module_loading import import_string

from tickets import event_kinds, sql
from tickets.doorbell import publish
from tickets.models import Event, EventCounter

log = logging.getLogger(__name__)

AGENTS_GROUP = "agents"


def ticket_group(ticket_id: int) -> str:
    return f"ticket-{ticket_id}"


def customer_group(customer_id: int) -> str:
    return f"customer-{customer_id}"


def user_group(user_id: int) -> str:
    """Every console socket of one agent: for pushes meant for that agent alone (notifications,
    doorbell.push with a "user.notice" message), which are not events of the log."""
    return f"user-{user_id}"


def _allocate(count: int = 1) -> int:
    """Reserve `count` sequence numbers; returns the last. The UPDATE holds the counter row's
    lock until commit, which makes seq order equal commit order (see EventCounter)."""
    last = sql.advance_event_counter(count)
    if last is None:  # first use of a fresh database (the migration normally creates it)
        EventCounter.objects.get_or_create(id=1, defaults={"value": 0})
        return _allocate(count)
    return last


def record(kind: str, *, ticket=None, customer=None, message=None, public=False, data=None,
           extra_groups: Iterable[str] = ()) -> int:
    """Write one Event in the caller's transaction and ring its groups after commit; returns
    its seq.

    Call it last in a service's transaction: from here to commit every other writer of events
    waits on the counter row."""
    return record_many(dict(kind=kind, ticket=ticket, customer=customer, message=message, public=public,
                            data=data, extra_groups=extra_groups))[-1]


def record_many(*changes: dict) -> list[int]:
    """Several events of one change (a new ticket and its first message), each a dict of
    record()'s arguments: one sequence allocation, one insert, one doorbell. Returns the seqs."""
    if not connection.in_atomic_block:
        raise RuntimeError("events.record() must run inside the transaction of the change.")
    unknown = [c["kind"] for c in changes if not event_kinds.is_registered(c["kind"])]
    if unknown:
        raise ValueError(f"Unregistered event kind(s) {unknown}: register them in tickets/event_kinds.py "
                         "or in the recording app's AppConfig.ready().")
    now, groups, values = timezone.now(), {}, []
    for change in changes:
        ticket, customer = change.get("ticket"), change.get("customer")
        customer_id = customer.pk if customer is not None else getattr(ticket, "customer_id", None)
        message = change.get("message")
        values.append((change["kind"], getattr(ticket, "pk", None), customer_id, getattr(message, "pk", None),
                       bool(change.get("public")), change.get("data") or {}, now))
        groups.update(dict.fromkeys([*groups_of(getattr(ticket, "pk", None), customer_id),
                                     *change.get("extra_groups", ())]))
    last = _allocate_and_insert(values)
    seqs = list(range(last - len(changes) + 1, last + 1))
    rows = [(seq, *value) for seq, value in zip(seqs, values, strict=True)]
    _run_hooks(rows)
    held = {row[0]: CommittedEvent(*row[:7]) for row in rows}
    transaction.on_commit(lambda: setattr(_just_committed, "rows", held), robust=True)  # first: for the sinks
    # One ring for all of them: a doorbell says "read up to `last`" (every seq below a committed
    # one is committed: seq order is commit order) and carries the events themselves, read back
    # once after commit, so a thousand consoles do not each read them again.
    transaction.on_commit(lambda: publish(list(groups), last, carry=lambda: carried(seqs[0], last)), robust=True)
    for sink in _sinks():
        transaction.on_commit(lambda sink=sink: sink(seqs), robust=True)
    return seqs


class CommittedEvent(NamedTuple):
    """A committed event's row, as an after-commit sink reads it (committed())."""

    seq: int
    kind: str
    ticket_id: int | None
    customer_id: int | None
    message_id: int | None
    public: bool
    data: dict


# The rows of the change whose after-commit callbacks run in this thread: set by the first of
# them (so only once the change has committed), replaced by the next change's.
_just_committed = threading.local()


def committed(seqs: Iterable[int], kinds: Iterable[str] | None = None) -> list[CommittedEvent]:
    """The committed events `seqs` (of `kinds`), oldest first. A sink of the change that
    recorded them gets them from memory, the rows record_many() inserted (as the in-transaction
    hooks do), so the sinks of one commit do not each read the log again (two statements per
    ingest, a round trip each on PostgreSQL); anything else (a task, another thread) reads it."""
    seqs, held = sorted(seqs), getattr(_just_committed, "rows", {})
    if all(seq in held for seq in seqs):
        rows = [held[seq] for seq in seqs]
    else:
        rows = [CommittedEvent(*row) for row in sql.values(Event, COMMITTED_FIELDS, order_by="seq", seq__in=seqs)]
    wanted = None if kinds is None else set(kinds)
    return [row for row in rows if wanted is None or row.kind in wanted]


COMMITTED_FIELDS = ("seq", "kind", "ticket_id", "customer_id", "message_id", "public", "data")


def _sinks():
    """HELPDESK_EVENT_SINKS: dotted paths of callables(seqs) run after commit with the seqs of
    new events (e.g. the outgoing-webhook dispatcher). Like the channel adapters, found through
    a setting so tickets imports nobody."""
    return [import_string(path) for path in getattr(settings, "HELPDESK_EVENT_SINKS", ())]


def wants(*kinds: str, keeps_whole: bool = False):
    """Mark a HELPDESK_EVENT_HOOKS callable with the event kinds it reads: it is then called
    only for changes that recorded one of them, so it costs nothing (no savepoint, no Event
    objects) for all the others. A hook without the mark gets every change.

    `keeps_whole=True`: the hook never leaves half its work behind by itself (each write is
    one statement, done after everything that can fail in Python, or a block in its own
    transaction.atomic(), and any write before the last is harmless alone). Where a failed
    statement leaves the transaction usable (SQLite) such a hook runs without the savepoint;
    on PostgreSQL a failed statement aborts the transaction, so every hook gets one."""
    def mark(hook):
        hook.event_kinds = frozenset(kinds)
        hook.keeps_whole = keeps_whole
        return hook

    return mark


_hook_cache: tuple[tuple, list] = ((), [])


def _hooks() -> list[tuple[Callable, frozenset | None]]:
    """HELPDESK_EVENT_HOOKS: dotted paths of callables(events: list[Event]) run inside the
    transaction of the change, right after its Event rows are inserted: for what must commit
    with the change itself (per-ticket metrics). A failure is logged and the change goes on (a
    customer's message is never lost to a bookkeeping bug). Imported once per value of the
    setting (tests override it)."""
    global _hook_cache
    paths = tuple(getattr(settings, "HELPDESK_EVENT_HOOKS", ()))
    if _hook_cache[0] != paths:
        hooks = [import_string(path) for path in paths]
        _hook_cache = (paths, [(hook, getattr(hook, "event_kinds", None)) for hook in hooks])
    return _hook_cache[1]


def _run_hooks(rows: list[tuple]) -> None:
    """The hooks that want one of these kinds. Those that need a savepoint share ONE (a
    savepoint is two more statements per change: one per hook was a large part of the hooks'
    cost on ingest). When one of them fails, the savepoint undoes them all, and each is run
    again in a savepoint of its own, so one broken hook never costs the others their work."""
    hooks = _hooks()
    if not hooks:
        return
    kinds = {row[1] for row in rows}
    chosen = [hook for hook, wanted in hooks if wanted is None or not wanted.isdisjoint(kinds)]
    if not chosen:
        return
    batch = [_event(row) for row in rows]
    statement_safe = connection.vendor == "sqlite"  # a failed statement is undone alone there
    guarded = []
    for hook in chosen:
        if statement_safe and getattr(hook, "keeps_whole", False):
            try:
                hook(batch)
            except Exception:
                log.exception("event hook %s failed on events %s", getattr(hook, "__qualname__", hook),
                              [e.seq for e in batch])
        else:
            guarded.append(hook)
    if not guarded or _attempt(guarded, batch, report=len(guarded) == 1) or len(guarded) == 1:
        return
    for hook in guarded:
        _attempt([hook], batch, report=True)


def _attempt(hooks: list[Callable], batch: list[Event], *, report: bool) -> bool:
    try:
        with transaction.atomic():
            for hook in hooks:
                hook(batch)
    except Exception:
        if report:
            log.exception("event hook %s failed on events %s", getattr(hooks[0], "__qualname__", hooks[0]),
                          [e.seq for e in batch])
        return False
    return True


def _event(row: tuple) -> Event:
    """An Event instance of an inserted row, built without Model.__init__ (a quarter of the
    seam's cost on ingest): the attributes a hook reads, as from_db() would set them."""
    event = Event.__new__(Event)
    event._state = ModelState()
    event._state.adding, event._state.db = False, connection.alias
    event.__dict__.update(zip(_INSERT_COLUMNS, row, strict=True), id=None)
    return event


_INSERT_COLUMNS = sql.EVENT_COLUMNS


def _allocate_and_insert(values: list[tuple]) -> int:
    """Reserve the seqs of these events (their values without the seq) and insert them: one
    statement each (tickets.sql: every visible change writes them, and compiling an ORM insert
    costs more than running it on a small server), or on PostgreSQL both in one (a round trip
    fewer per change). Returns the last seq."""
    if connection.vendor == "postgresql":
        last = sql.allocate_and_insert_events(values)
        if last is None:  # first use of a fresh database (the migration normally creates the row)
            EventCounter.objects.get_or_create(id=1, defaults={"value": 0})
            last = sql.allocate_and_insert_events(values)
        return last
    last = _allocate(len(values))
    sql.insert_events([(seq, *value) for seq, value in zip(range(last - len(values) + 1, last + 1), values,
                                                            strict=True)])
    return last


def current_seq() -> int:
    """The highest committed sequence number. Render pages with this, read *before* the data,
    so a client resuming from it misses nothing (and drops what it already has)."""
    return EventCounter.objects.filter(id=1).values_list("value", flat=True).first() or 0


def oldest_seq() -> int | None:
    return Event.objects.order_by("seq").values_list("seq", flat=True).first()


def serialise(event: Event) -> dict:
    return {"type": "event", "seq": event.seq, "kind": event.kind, "ticket": event.ticket_id,
            "customer": event.customer_id, "data": event.data}


class Gap(Exception):
    """The client is further behind than the log can replay: it must reload."""


def groups_of(ticket_id, customer_id) -> list[str]:
    groups = [AGENTS_GROUP]
    if ticket_id is not None:
        groups.append(ticket_group(ticket_id))
    if customer_id is not None:
        groups.append(customer_group(customer_id))
    return groups


class Carried(NamedTuple):
    """One event as a doorbell carries it: the client's frame, encoded once for every socket
    that hears it, and what a consumer needs to authorise it in memory (public, the ticket's
    team; `prev`: the customer's previous link, see sql.carried_events: a public event, or a
    customer-wide one such as a merge or its undo, which can move a ticket to another customer. A
    chat visitor hears only its own bells, so it cannot see a gap in the global seq; `prev` tells
    it whether it has every public event of its customer up to the bell and whether one of its
    tickets may have left the customer unseen, livechat/consumer.py). A tuple of
    immutable values: the in-memory layer deep-copies every message for every socket, and
    copying such a tuple copies nothing (Redis turns it into a list: see of())."""

    seq: int
    ticket: int | None
    customer: int | None
    public: bool
    team: int | None
    frame: str
    prev: int | None = None

    @classmethod
    def of(cls, events) -> tuple[Carried, ...]:
        return events if events and isinstance(events[0], cls) else tuple(cls(*e) for e in events)


def _carry(row: tuple) -> Carried:
    seq, kind, ticket_id, customer_id, data, public, team_id, prev = row
    frame = {"type": "event", "seq": seq, "kind": kind, "ticket": ticket_id, "customer": customer_id,
             "data": data}
    return Carried(seq, ticket_id, customer_id, public, team_id, json.dumps(frame), prev)


def carried(first: int, last: int) -> tuple[Carried, ...] | None:
    """The committed events first..last as a doorbell carries them (one query), or None when
    they are too big to carry (HELPDESK_DOORBELL_CARRY_BYTES): consumers then read the log."""
    items = tuple(_carry(row) for row in sql.carried_events(first - 1, last))
    if len(items) != last - first + 1 or sum(len(i.frame) for i in items) > settings.HELPDESK_DOORBELL_CARRY_BYTES:
        return None  # pruned already, or too big: the bell alone still says where to read
    return items


def rings_since(last_seq: int, limit: int = 1000) -> tuple[list[tuple[list[str], int, tuple | None]], int]:
    """The doorbells of every event after `last_seq` (groups, seq, carried events), and the new
    position. Committed in seq order, so nothing below the position can still appear."""
    rows = sql.carried_events(last_seq, limit=limit)
    rings = []
    for row in rows:
        item = _carry(row)
        carry = (item,) if len(item.frame) <= settings.HELPDESK_DOORBELL_CARRY_BYTES else None
        rings.append((groups_of(item.ticket, item.customer), item.seq, carry))
    return rings, (rows[-1][0] if rows else last_seq)


def events_since(last_seq: int, scope: Q, authorise: Callable[[Event], bool],
                 limit: int | None = None, high_water: int | None = None,
                 check_gap: bool = True) -> tuple[list[dict], int]:
    """The events in `scope` after `last_seq`, authorised one by one, oldest first, and the new
    cursor. Raises Gap when events the client needs were pruned or there are too many to replay.

    The cursor is a committed high-water mark read *before* the query: everything at or below
    it is committed (seq order is commit order), so the client may resume from it safely. A
    caller that knows one already (the seq of a doorbell, which rings after commit) passes it
    and saves the query; an older one is safe too (later events wait for the next look)."""
    limit = limit or settings.HELPDESK_EVENT_REPLAY_LIMIT
    if high_water is None:
        high_water = current_seq()
    if last_seq >= high_water:
        return [], max(last_seq, high_water)
    if check_gap and last_seq > 0:
        oldest = oldest_seq()
        if oldest is not None and last_seq < oldest - 1:
            raise Gap(f"events after {last_seq} were pruned (oldest is {oldest})")
    rows = list(
        Event.objects.filter(scope, seq__gt=last_seq, seq__lte=high_water).order_by("seq")[: limit + 1]
    )
    if len(rows) > limit:
        raise Gap(f"more than {limit} events to replay")
    return [serialise(e) for e in rows if authorise(e)], high_water


class HighWater:
    """A process-wide, recently read current_seq() for periodic checks: a thousand sockets
    looking every few seconds share one query a second instead of one each."""

    def __init__(self, max_age: float = 1.0):
        self.max_age, self.value, self.read_at = max_age, 0, 0.0
        self.lock = threading.Lock()

    def get(self) -> int:
        with self.lock:
            if time.monotonic() - self.read_at > self.max_age:
                self.value, self.read_at = current_seq(), time.monotonic()
            return self.value


high_water = HighWater()
