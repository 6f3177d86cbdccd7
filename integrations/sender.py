"""One HTTP attempt of one delivery: signed, pinned to a vetted address, bounded in time and in
how much of the answer we read, never following redirects (a redirect could point inside)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings

from integrations import signing
from integrations.ssrf import check_url

USER_AGENT = "helpdesk-webhooks/1"
MAX_RESPONSE_BYTES = 2048  # kept for the delivery log; the rest is not even read


@dataclass
class Attempt:
    status_code: int
    response: str
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


def pinned(url: str, address: str) -> tuple[str, str]:
    """The URL with its host replaced by `address`, and the Host header to send."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    port = f":{parts.port}" if parts.port else ""
    host_header = (f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname) + port
    return urlunsplit((parts.scheme, host + port, parts.path or "/", parts.query, "")), host_header


def post(*, url: str, secret: str, delivery_id: str, event_type: str, body: bytes,
         transport: httpx.BaseTransport | None = None) -> Attempt:
    """Raises UnsafeDestination (never retried), ResolutionFailed or httpx.HTTPError (retried)."""
    address = check_url(url)[0]  # re-checked now: the DNS answer may differ from registration
    target, host_header = pinned(url, address)
    timestamp = int(time.time())
    headers = {
        "Host": host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.DELIVERY_HEADER: delivery_id,
        signing.EVENT_HEADER: event_type,
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.sign(secret, timestamp, body),
    }
    timeout = settings.HELPDESK_WEBHOOKS_TIMEOUT_SECONDS
    extensions = {"sni_hostname": urlsplit(url).hostname} if url.lower().startswith("https") else {}
    # trust_env=False: no proxy from the environment may route around the address check.
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), follow_redirects=False,
                      trust_env=False, transport=transport) as client:
        with client.stream("POST", target, content=body, headers=headers, extensions=extensions) as response:
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_RESPONSE_BYTES:
                    break
            text = b"".join(chunks)[:MAX_RESPONSE_BYTES].decode("utf-8", "replace")
            return Attempt(response.status_code, text, _retry_after(response.headers.get("Retry-After")))


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: ignore, our own backoff applies
