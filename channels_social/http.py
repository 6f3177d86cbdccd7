"""The one place the social adapters get an HTTP client, so every call to Meta or Telegram has
timeouts, and tests swap the transport (httpx.MockTransport) instead of skipping the code."""

from __future__ import annotations

import httpx
from django.conf import settings

# Tests set this to an httpx.MockTransport (see tests.fakes.social.fake_http).
transport: httpx.BaseTransport | None = None


def client() -> httpx.Client:
    timeout = httpx.Timeout(settings.SOCIAL_HTTP_TIMEOUT, connect=settings.SOCIAL_HTTP_CONNECT_TIMEOUT)
    return httpx.Client(timeout=timeout, transport=transport, follow_redirects=True,
                        headers={"User-Agent": "helpdesk-social/1"})


def retry_after(response: httpx.Response) -> float | None:
    """The provider's Retry-After in seconds, when it sends one as a number."""
    value = response.headers.get("Retry-After", "")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def download(url: str, headers: dict | None = None, limit: int | None = None) -> bytes:
    """Fetch provider-hosted media, refusing more than `limit` bytes (default
    HELPDESK_MAX_ATTACHMENT_BYTES) without reading it all into memory first. Gone or forbidden
    is permanent; the rest is retried."""
    from django.utils.translation import gettext as _

    from tickets.channels import PermanentDeliveryError, TransientDeliveryError

    limit = settings.HELPDESK_MAX_ATTACHMENT_BYTES if limit is None else limit
    try:
        with client() as http_client, http_client.stream("GET", url, headers=headers or {}) as response:
            if response.status_code >= 500 or response.status_code == 429:
                raise TransientDeliveryError(_("The media server answered %(status)s.") % {"status": response.status_code},
                                             code=str(response.status_code), retry_after=retry_after(response))
            if response.status_code >= 400:
                raise PermanentDeliveryError(_("The media is no longer available (%(status)s).") % {"status": response.status_code},
                                             code=str(response.status_code))
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise PermanentDeliveryError(_("The file is larger than %(limit)s bytes.") % {"limit": limit},
                                                 code="too_large")
                chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise TransientDeliveryError(_("The media download timed out."), code="timeout") from exc
    except httpx.TransportError as exc:
        raise TransientDeliveryError(_("The media server is unreachable: %(error)s") % {"error": exc}, code="network") from exc
    return b"".join(chunks)
