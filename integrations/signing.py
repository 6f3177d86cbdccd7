"""Signing deliveries, Stripe / Standard Webhooks style.

    X-Helpdesk-Timestamp: 1767225600                (unix seconds of this attempt)
    X-Helpdesk-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

A receiver recomputes the HMAC over the raw body, compares in constant time and rejects
timestamps outside its tolerance (5 minutes), which stops a captured request being replayed
later. `verify()` below is what a Python receiver needs."""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Helpdesk-Timestamp"
SIGNATURE_HEADER = "X-Helpdesk-Signature"
DELIVERY_HEADER = "X-Helpdesk-Delivery"
EVENT_HEADER = "X-Helpdesk-Event"
DEFAULT_TOLERANCE = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, timestamp: str, signature: str, *, tolerance: int = DEFAULT_TOLERANCE,
           now: float | None = None) -> bool:
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance:
        return False
    expected = sign(secret, ts, body)
    # Several "v1=..." values may be sent (e.g. while a secret rotates): any may match.
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in (signature or "").split(","))
