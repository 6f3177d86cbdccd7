"""Small helpers for provider JSON: strict where it matters, forgiving where providers differ."""

from __future__ import annotations

from datetime import UTC, datetime

from tickets import safejson
from tickets.channels import PayloadError


def load_json(body: bytes) -> dict:
    """A provider's JSON object, read with the shared safe loader (bounded nesting, no NaN, lone
    surrogates replaced); anything else is a PayloadError with the reason."""
    try:
        return safejson.loads(body, expect=dict)
    except safejson.BadJson as exc:
        raise PayloadError(exc.reason) from exc


def from_millis(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def from_seconds(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
