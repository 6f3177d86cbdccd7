"""Idempotency-Key (the IETF draft, as Stripe does it): a retried POST creates nothing twice.

The first request with a key claims it (a committed row: the lock), runs the view and stores
its response *in the same transaction* as the view's writes, so either both are kept or
neither is: a crash half-way leaves nothing behind and the retry simply runs again. A retry
after success replays the stored response (header Idempotent-Replayed: true); one arriving
while the first still runs gets 409; the same key with a different request gets 422.
Keys are scoped per token and forgotten after HELPDESK_API_IDEMPOTENCY_HOURS. Errors are not
stored: a request that failed created nothing, so running it again is safe."""

from __future__ import annotations

import functools
import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Status

from api.errors import ApiError
from api.models import IdempotencyKey
from api.rendering import CONTENT_TYPE, RENDERER
from tickets.services.retention import delete_in_batches

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A claim older than this without a response belongs to a request that died: take it over.
ABANDONED_AFTER = timedelta(minutes=5)


def idempotent(view):
    """Decorate a POST view that returns ninja.Status(code, <Schema instance>)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(request, *args, **kwargs)
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise ApiError(400, "invalid_idempotency_key",
                           _("The Idempotency-Key header must be 1 to 255 printable characters."))
        claim = _claim(request, key)
        if not isinstance(claim, IdempotencyKey):
            return claim  # the stored response, replayed
        try:
            with transaction.atomic():
                result = view(request, *args, **kwargs)
                status, body = _serialise(request, result)
                IdempotencyKey.objects.filter(pk=claim.pk).update(status_code=status, response=body)
        except BaseException:
            IdempotencyKey.objects.filter(pk=claim.pk, status_code__isnull=True).delete()
            raise
        return result

    return wrapper


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.body):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def _claim(request, key: str):
    token, fingerprint = request.auth, _fingerprint(request)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(token=token, key=key, fingerprint=fingerprint,
                                                     method=request.method, path=request.path[:500])
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(token=token, key=key).first()
        if existing is None:
            continue  # released by a failed first attempt: claim it again
        now = timezone.now()
        if existing.created_at < now - timedelta(hours=settings.HELPDESK_API_IDEMPOTENCY_HOURS):
            existing.delete()  # expired: the key may be used afresh
            continue
        if existing.fingerprint != fingerprint:
            raise ApiError(422, "idempotency_key_reused",
                           _("This Idempotency-Key was used for a different request."))
        if existing.status_code is None:
            taken = IdempotencyKey.objects.filter(
                pk=existing.pk, status_code__isnull=True, created_at__lt=now - ABANDONED_AFTER,
            ).update(created_at=now)
            if taken:
                return existing
            raise ApiError(409, "idempotency_key_in_use",
                           _("A request with this Idempotency-Key is still running; retry later."))
        return _replay(request, existing)
    raise ApiError(409, "idempotency_key_in_use", _("This Idempotency-Key is busy; retry later."))


def _serialise(request, result) -> tuple[int, object]:
    if not isinstance(result, Status):
        raise TypeError("an @idempotent view must return ninja.Status")
    value = result.value.model_dump(by_alias=True) if hasattr(result.value, "model_dump") else result.value
    # Rendered exactly as ninja renders the live response, so a replay is byte-identical.
    return result.status_code, RENDERER.render(request, value, response_status=result.status_code)


def _replay(request, stored: IdempotencyKey):
    response = HttpResponse(stored.response, status=stored.status_code, content_type=CONTENT_TYPE)
    response["Idempotent-Replayed"] = "true"
    return response


def prune(hours: int | None = None, progress=None) -> int:
    """Forget keys older than the retention window; returns how many."""
    hours = settings.HELPDESK_API_IDEMPOTENCY_HOURS if hours is None else hours
    return delete_in_batches(IdempotencyKey.objects.filter(created_at__lt=timezone.now() - timedelta(hours=hours)),
                             progress)
