"""Provider requests (a webhook, a mail from the MTA pipe or a mailbox): keep the verified
request as it came (an InboundPayload, "the raw payload"), then turn it into messages and
delivery updates (`process_request`, which replay and the admin run again).

The payload row is committed *before* parsing, so a crash, a parser bug or a database hiccup
in between loses nothing: `manage.py replay_inbound` processes it again (ingest is idempotent)."""

from __future__ import annotations

import dataclasses
import logging

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import sql
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
    payload = sql.insert(InboundPayload(
        adapter=adapter_key, path=raw.path[:500], content_type=raw.content_type[:255],
        headers=raw.headers, body=raw.body,
    ), flushed_by_next_commit=True)
    return payload, process_request(payload, raw)


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
        items = _parse(adapter, raw)  # outside the transaction: SQLite holds its write lock from BEGIN
        limit = settings.HELPDESK_WEBHOOK_MAX_ITEMS
        if len(items) > limit and not raw.released:
            # 2,000 items held the write lock for 5-13 s; an admin can let a genuine batch through.
            raise Quarantined(_("%(count)d items in one request; at most %(limit)d are processed at once")
                              % {"count": len(items), "limit": limit})
        # Sanitising is slow on hostile HTML: done here too, never while holding the lock.
        items = [prepare(item) if isinstance(item, InboundMessage) else item for item in items]
        # One transaction for every item and the payload's new state: a payload is processed
        # whole or not at all (a failure rolls back its earlier items too, and replay redoes
        # them), and one commit instead of two per message. A batch an admin let through is
        # written `limit` items per transaction, so the lock is never held long (ingest is
        # idempotent: a replay after a failure redoes only what is missing).
        results = []
        for start in range(0, max(len(items), 1), limit):
            with transaction.atomic():
                chunk = [_apply(item) for item in items[start:start + limit]]
                adapter.after_ingest(chunk)
                results += chunk
                if start + limit >= len(items):
                    _finish(payload, InboundPayload.State.PROCESSED, "")
                    adapter.after_processing(raw)
    except Quarantined as exc:
        _finish(payload, InboundPayload.State.QUARANTINED, exc.reason)
        log.warning("%s payload %s quarantined: %s", payload.adapter, payload.pk, exc.reason)
        return []
    except PayloadError as exc:
        _finish(payload, InboundPayload.State.FAILED, f"{exc.reason}")
        log.warning("%s payload %s rejected: %s", payload.adapter, payload.pk, exc.reason)
        raise
    except Exception as exc:
        _finish(payload, InboundPayload.State.FAILED, f"{type(exc).__name__}: {exc}")
        log.exception("%s payload %s failed; kept for replay", payload.adapter, payload.pk)
        raise
    return results


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
