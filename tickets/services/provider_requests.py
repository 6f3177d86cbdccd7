"""Provider requests (a webhook, a mail from the MTA pipe or a mailbox): keep the verified
request as it came (an InboundPayload, "the raw payload"), then turn it into messages and
delivery updates (`process_request`, which replay and the admin run again).

The payload row is committed *before* parsing, so a crash, a parser bug or a database hiccup
in between loses nothing: `manage.py replay_inbound` processes it again (ingest is idempotent)."""

from __future__ import annotations

import dataclasses
import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import ingest_spool, sql
from tickets.channels import (
    DeliveryUpdate,
    InboundMessage,
    PayloadError,
    Quarantined,
    RawRequest,
    get_adapter,
)
from tickets.models import InboundPayload
from tickets.services.delivery import apply_delivery_update
from tickets.services.inbound import ingest, prepare

log = logging.getLogger(__name__)


def receive_request(adapter_key: str, raw: RawRequest) -> tuple[InboundPayload, list]:
    """Store an already *verified* request and process it. Raises PayloadError (the provider
    should get a 4xx) or the unexpected exception (5xx: the provider retries); either way the
    payload stays stored with its error for replay."""
    # Committed before anything else, but its disk flush rides on the next commit, which every
    # path below makes before the provider hears from us (ingest's, or the failure's mark).
    payload = _store(adapter_key, raw, flushed_by_next_commit=True)
    return payload, process_request(payload, raw)


def accept_request(adapter_key: str, raw: RawRequest, *, spool: bool = True) -> tuple[InboundPayload, list]:
    """HELPDESK_WEBHOOK_INGEST=worker: store an already *verified* request and check that it
    parses, and leave the writing to an ingest worker (`write_queued`); the provider gets its
    answer once the payload is committed. Bad input is still refused here (PayloadError: a 4xx,
    the payload kept with its error); a batch over the limit is quarantined (no items). The
    returned items are parsed, not written. With the ingest spool (SQLite, HELPDESK_INGEST_SPOOL)
    the request is kept there and the returned payload is not saved yet (no pk): `spool=False`
    for a caller that needs the row now."""
    if spool and ingest_spool.enabled():
        try:
            items = _checked(get_adapter(adapter_key), raw)  # bad input is kept in the database, with its error
        except Exception as exc:
            payload = _store(adapter_key, raw)
            return payload, _failed(payload, exc)
        return ingest_spool.spool(adapter_key, raw) or _store(adapter_key, raw, state=InboundPayload.State.QUEUED), items
    payload = _store(adapter_key, raw, state=InboundPayload.State.QUEUED)  # its own commit, flushed
    try:
        items = _checked(get_adapter(adapter_key), raw)  # sanitising is the worker's
    except Exception as exc:
        return payload, _failed(payload, exc)
    return payload, items


def _store(adapter_key: str, raw: RawRequest, *, state: str = InboundPayload.State.RECEIVED,
           flushed_by_next_commit: bool = False) -> InboundPayload:
    return sql.insert(InboundPayload(
        adapter=adapter_key, path=raw.path[:500], content_type=raw.content_type[:255],
        headers=raw.headers, body=raw.body, state=state,
    ), flushed_by_next_commit=flushed_by_next_commit)


def raw_request_of(payload: InboundPayload) -> RawRequest:
    return RawRequest(method="POST", path=payload.path, content_type=payload.content_type,
                      headers=payload.headers, body=bytes(payload.body),
                      query=payload.path.partition("?")[2])


def process_request(payload: InboundPayload, raw: RawRequest | None = None, *, release: bool = False) -> list:
    """Parse and apply a stored payload. `release`: an admin lets a quarantined payload through
    (the adapter skips its soft checks; see RawRequest.released)."""
    adapter = get_adapter(payload.adapter)
    raw = raw or raw_request_of(payload)
    if release:
        raw = dataclasses.replace(raw, released=True)
        log.info("%s payload %s let through the quarantine", payload.adapter, payload.pk)
    try:
        return _write(payload, adapter, raw, _prepared(adapter, raw))
    except Exception as exc:
        return _failed(payload, exc)


def write_queued(limit: int) -> int:
    """An ingest worker's turn (HELPDESK_WEBHOOK_INGEST=worker): write up to `limit` payloads
    still "queued" (accept_request's), oldest first, in ONE transaction (one commit and one round of after-commit
    work for the lot), each in a savepoint of its own, so one that fails is marked failed alone
    and the rest commit. Workers never write the same payload: on PostgreSQL each claims its
    rows (FOR UPDATE SKIP LOCKED) and prepares them inside its transaction; SQLite has one
    writer, so a worker prepares outside the write lock and checks the state again under it. A
    database error that is not the payload's fault (a lost connection, a lock timeout) leaves it
    "queued" for the next turn. Returns how many payloads left the queue (0: nothing waiting,
    or only payloads the database would not take just now: the caller pauses either way)."""
    queued = InboundPayload.objects.filter(state=InboundPayload.State.QUEUED).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            claimed = list(queued.select_for_update(skip_locked=True)[:limit])
            deferred = _write_prepared(_prepare_each(claimed))
        return len(claimed) - deferred
    candidates, deferred = list(queued[:limit]), 0
    if candidates:
        prepared = _prepare_each(candidates)  # parsing and sanitising outside the write lock
        with transaction.atomic():
            still = set(queued.filter(pk__in=[p.pk for p, *_ in prepared]).values_list("pk", flat=True))
            deferred = _write_prepared([entry for entry in prepared if entry[0].pk in still])
    return len(candidates) - deferred


def _prepare_each(payloads: list[InboundPayload]) -> list[tuple]:
    prepared = []
    for payload in payloads:
        adapter, raw = get_adapter(payload.adapter), raw_request_of(payload)
        try:
            prepared.append((payload, adapter, raw, _prepared(adapter, raw)))
        except Exception as exc:  # noqa: BLE001 - marked and logged by _failed; the rest go on
            _quietly(_failed, payload, exc)
    return prepared


def _write_prepared(prepared: list[tuple]) -> int:
    """Write each in a savepoint; returns how many stay queued (the database's fault)."""
    deferred = 0
    for payload, adapter, raw, items in prepared:
        try:
            _write(payload, adapter, raw, items)  # its atomic() is a savepoint here
        except (OperationalError, InterfaceError):
            deferred += 1
            log.warning("%s payload %s not written (database); tried again later", payload.adapter, payload.pk,
                        exc_info=True)
        except Exception as exc:  # noqa: BLE001
            _quietly(_failed, payload, exc)
    return deferred


def _quietly(function, *args) -> None:  # for _failed, which logs before it raises
    try:
        function(*args)
    except Exception:  # noqa: BLE001, S110 - already logged by _failed
        pass


def _prepared(adapter, raw: RawRequest) -> list:
    """Items parsed, checked and sanitised: outside the write transaction where it matters
    (SQLite holds its write lock from BEGIN; sanitising is slow on hostile HTML)."""
    return [prepare(item) if isinstance(item, InboundMessage) else item for item in _checked(adapter, raw)]


def _checked(adapter, raw: RawRequest) -> list:
    """The parsed items; PayloadError if they do not parse, Quarantined if there are too many."""
    items = _parse(adapter, raw)
    limit = settings.HELPDESK_WEBHOOK_MAX_ITEMS
    if len(items) > limit and not raw.released:
        # 2,000 items held the write lock for 5-13 s; an admin can let a genuine batch through.
        raise Quarantined(_("%(count)d items in one request; at most %(limit)d are processed at once")
                          % {"count": len(items), "limit": limit})
    return items


def _write(payload: InboundPayload, adapter, raw: RawRequest, items: list) -> list:
    # One transaction for every item and the payload's new state: a payload is processed
    # whole or not at all (a failure rolls back its earlier items too, and replay redoes
    # them), and one commit instead of two per message. A batch an admin let through is
    # written `limit` items per transaction, so the lock is never held long (ingest is
    # idempotent: a replay after a failure redoes only what is missing).
    limit, results = settings.HELPDESK_WEBHOOK_MAX_ITEMS, []
    for start in range(0, max(len(items), 1), limit):
        with transaction.atomic():
            chunk = [_apply(item) for item in items[start:start + limit]]
            adapter.after_ingest(chunk)
            results += chunk
            if start + limit >= len(items):
                _finish(payload, InboundPayload.State.PROCESSED, "")
                adapter.after_processing(raw)
    return results


def _failed(payload: InboundPayload, exc: Exception) -> list:
    """Mark the payload and log; a quarantine returns no items, anything else is raised again
    (PayloadError: the provider gets a 4xx; the unexpected: a 5xx, the provider retries)."""
    if isinstance(exc, Quarantined):
        _finish(payload, InboundPayload.State.QUARANTINED, exc.reason)
        log.warning("%s payload %s quarantined: %s", payload.adapter, payload.pk, exc.reason)
        return []
    if isinstance(exc, PayloadError):
        _finish(payload, InboundPayload.State.FAILED, f"{exc.reason}")
        log.warning("%s payload %s rejected: %s", payload.adapter, payload.pk, exc.reason)
        raise exc
    _finish(payload, InboundPayload.State.FAILED, f"{type(exc).__name__}: {exc}")
    log.error("%s payload %s failed; kept for replay", payload.adapter, payload.pk, exc_info=exc)
    raise exc


def _parse(adapter, raw: RawRequest) -> list:
    """The adapter's parse, with its failures classified: a database error stays what it is (a
    5xx, the provider retries), anything else a parser raises on an authentic request is bad
    input (wrong JSON types, absurd nesting...): a clear 400 with the payload kept, never a 500."""
    try:
        items = adapter.parse(raw)
    except (PayloadError, DatabaseError):
        raise
    except (LookupError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        log.warning("%s parser refused a payload", adapter.key, exc_info=not isinstance(exc, RecursionError))
        raise PayloadError(f"{type(exc).__name__}: {exc}"[:500]) from exc
    for item in items:
        # A parser copying provider fields as they come can hand over a list where text belongs
        # (JSON of the wrong types): refuse it here, before the write transaction.
        wrong = [name for name in _TEXT_FIELDS if not isinstance(getattr(item, name, ""), str)]
        if wrong:
            raise PayloadError(_("%(field)s is a %(type)s, not text")
                               % {"field": wrong[0], "type": type(getattr(item, wrong[0])).__name__})
    return items


_TEXT_FIELDS = ("channel", "external_id", "sender", "sender_name", "subject", "text", "html", "status")


def _apply(item):
    if isinstance(item, InboundMessage):
        return ingest(item)
    if isinstance(item, DeliveryUpdate):
        return apply_delivery_update(item)
    raise PayloadError(f"adapter returned an unknown item {type(item).__name__}")


def _finish(payload: InboundPayload, state: str, error: str) -> None:
    payload.state, payload.error, payload.processed_at = state, error[:5000], timezone.now()
    sql.update(payload, ("state", "error", "processed_at"))
