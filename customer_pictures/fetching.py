"""Fetching, checking and storing a customer's picture; the fetch_picture task runs refresh().

A picture is the provider's profile photo as bytes we hold (never a hot-linked URL: Meta's
expire and Telegram's carry the bot token), recognised from its magic bytes as JPEG, PNG, WebP
or GIF and at most HELPDESK_PICTURE_MAX_BYTES, under MEDIA_ROOT/pictures/. The console reads it
from Identity.meta["avatar_url"], set through tickets.services.set_identity_picture()."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customer_pictures.models import Picture
from tickets import queueing, services, sql
from tickets.channels import PermanentDeliveryError, get_adapter
from tickets.console.inline_images import SNIFF_BYTES, sniff_image
from tickets.models import Identity
from tickets.queueing import Outcome
from tickets.services.delivery import backoff

log = logging.getLogger(__name__)

FOLDER = "pictures"
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}
# A queued fetch that has not answered by then (a worker down) may be queued again.
PENDING_FOR = timedelta(hours=1)


class Rejected(ValueError):
    """The provider's bytes are not a picture we keep (the message says why, for the log)."""


def is_due(requested_at, checked_at, now) -> bool:
    """Whether to queue a fetch for an identity with this Picture row (None, None: no row).
    `requested_at` is cleared when the fetch answers; one older than PENDING_FOR was lost."""
    if requested_at is not None and now - requested_at < PENDING_FOR:
        return False  # queued, not answered yet
    return not is_fresh(checked_at, now)


def is_fresh(checked_at, now) -> bool:
    return checked_at is not None and now - checked_at < timedelta(days=settings.HELPDESK_PICTURE_REFRESH_DAYS)


def request(wanted: dict[int, str]) -> int:
    """Queue fetch_picture for the identities (id -> adapter key) whose picture is due. The
    request is written with the task, in one transaction (the task row is in our database), so
    a burst of messages from one customer queues one fetch. Plain statements (tickets.sql): this
    runs after every commit with a customer's message on a picture channel."""
    now = timezone.now()
    known = {identity_id: (pk, requested, checked) for pk, identity_id, requested, checked in sql.values(
        Picture, ("id", "identity_id", "requested_at", "checked_at"), identity_id__in=list(wanted))}
    due = [i for i in wanted if is_due(*known.get(i, (None, None, None))[1:], now)]
    if not due:
        return 0
    with transaction.atomic():
        for identity_id in due:
            if identity_id in known:
                sql.update(Picture(pk=known[identity_id][0], requested_at=now), ("requested_at",))
            else:
                sql.insert_unless_exists(Picture(identity_id=identity_id, requested_at=now), ("identity",))
            queueing.later("fetch_picture", identity_id, wanted[identity_id])
    return len(due)


def refresh(identity_id: int, adapter_key: str, attempt: int = 1) -> Outcome:
    """Ask the provider for the identity's picture and store it. A provider's "gone" (a 404, an
    expired URL, no picture) and unusable bytes are recorded and not retried until the next
    refresh; a network or rate-limit failure is retried with the delivery backoff, up to
    HELPDESK_DELIVERY_MAX_ATTEMPTS, then recorded. Every failure is one log line."""
    identity = Identity.objects.filter(pk=identity_id).first()
    if identity is None:
        return Outcome("skipped")  # erased since it was queued
    requested_at, checked_at = Picture.objects.filter(identity_id=identity_id).values_list(
        "requested_at", "checked_at").first() or (None, None)
    if attempt == 1 and requested_at is None and is_fresh(checked_at, timezone.now()):
        return Outcome("skipped")  # a fetch queued beside this one (another process) answered
    try:
        adapter = get_adapter(adapter_key)
    except LookupError:
        log.warning("customer pictures: identity %s: no channel %r configured any more", identity_id, adapter_key)
        return Outcome("skipped")
    missing = adapter.picture_missing_setting() if callable(getattr(adapter, "profile_picture", None)) else ""
    if missing or not callable(getattr(adapter, "profile_picture", None)):
        log.warning("customer pictures: identity %s not fetched: %s", identity_id,
                    f"{missing} is not set" if missing else f"{adapter_key} has no pictures")
        return Outcome("skipped")
    limit = settings.HELPDESK_PICTURE_MAX_BYTES
    try:
        content = adapter.profile_picture(identity, limit=limit)
        content_type = check(content, limit) if content is not None else None
    except (PermanentDeliveryError, Rejected) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        log.warning("customer pictures: identity %s (%s): %s", identity_id, adapter_key, reason)
        record_check(identity_id, reason)
        return Outcome("failed")
    except Exception as exc:
        reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
        log.warning("customer pictures: identity %s (%s), attempt %s: %s", identity_id, adapter_key, attempt, reason)
        if attempt >= settings.HELPDESK_DELIVERY_MAX_ATTEMPTS:
            record_check(identity_id, f"{reason} (gave up after {attempt} attempts)")
            return Outcome("failed")
        return Outcome("retrying", retry_in=backoff(attempt, getattr(exc, "retry_after", None)))
    if content is None:
        store(identity_id, None, None)  # they show us none (or took theirs down): initials
        return Outcome("skipped")
    store(identity_id, content, content_type)
    return Outcome("stored")


def check(content: bytes, limit: int) -> str:
    """The picture's type from its leading bytes; Rejected for anything else or too big."""
    if len(content) > limit:
        raise Rejected(_("The picture is larger than %(limit)s bytes.") % {"limit": limit})
    content_type = sniff_image(content[:SNIFF_BYTES])
    if content_type is None:
        raise Rejected(_("The provider's picture is not a JPEG, PNG, WebP or GIF image."))
    return content_type


def record_check(identity_id: int, error: str) -> None:
    """The provider answered without a picture to keep: wait for the next refresh."""
    Picture.objects.filter(identity_id=identity_id).update(checked_at=timezone.now(), requested_at=None,
                                                           error=error[:300])


def picture_url(picture: Picture) -> str:
    """Our own URL for a stored picture; the digest makes a new picture a new URL (the browser
    may cache each for long)."""
    return f"{reverse('customer_pictures:picture', args=[picture.pk])}?v={picture.digest}"


def store(identity_id: int, content: bytes | None, content_type: str | None) -> Picture | None:
    """Keep `content` as the identity's picture (None: forget the one we had), set the
    identity's avatar_url through tickets.services, and delete the replaced file after commit.
    The new file is written before the transaction and removed again if it rolls back."""
    digest = hashlib.sha256(content).hexdigest()[:16] if content is not None else ""
    current = Picture.objects.filter(identity_id=identity_id).first()
    name = ""
    if content is not None and not (current and current.digest == digest and current.file):
        name = default_storage.save(f"{FOLDER}/{identity_id}-{digest}{EXTENSIONS[content_type]}",
                                    ContentFile(content))
    try:
        with transaction.atomic():
            if not Identity.objects.select_for_update().filter(pk=identity_id).exists():
                raise Identity.DoesNotExist  # erased meanwhile: keep nothing
            picture, _created = Picture.objects.select_for_update().get_or_create(identity_id=identity_id)
            replaced = picture.file if picture.file and (name or content is None) else ""
            if name or content is None:
                picture.file, picture.content_type, picture.digest = name, content_type or "", digest
                picture.size = len(content) if content is not None else 0
            picture.checked_at, picture.requested_at, picture.error = timezone.now(), None, ""
            picture.save()
            if picture.file or replaced:  # an avatar_url someone else set is left alone
                services.set_identity_picture(identity_id, picture_url(picture) if picture.file else "")
            if replaced:
                transaction.on_commit(lambda: delete_files([replaced]), robust=True)
    except Identity.DoesNotExist:
        if name:
            default_storage.delete(name)
        return None
    except BaseException:
        if name:
            default_storage.delete(name)
        raise
    return picture


def delete_files(names) -> None:
    """After commit: a rolled-back change must leave every picture readable."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.exception("customer pictures: could not delete %s; delete it by hand", name)
