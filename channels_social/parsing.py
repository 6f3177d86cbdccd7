"""Small helpers for provider JSON: strict where it matters, forgiving where providers differ."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tickets.channels import PayloadError


def load_json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise PayloadError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PayloadError("expected a JSON object")
    return data


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
