"""Meta's platforms (Messenger, Instagram, WhatsApp Cloud API): what they share.

One webhook URL serves all three: Meta signs every POST with the app secret
(X-Hub-Signature-256) and says in `object` which product it is about. MetaWebhookAdapter checks
the signature once and hands each entry to the platform adapter, whose InboundMessages name
that adapter, so replies and media downloads go back through it."""

from __future__ import annotations

import hashlib
import hmac
import logging

import httpx
from django.utils.translation import gettext as _

from channels_social import http
from channels_social.parsing import load_json
from tickets.channels import (
    MESSAGING_WINDOW,
    BaseAdapter,
    PayloadError,
    PermanentDeliveryError,
    SignatureError,
    TransientDeliveryError,
    get_adapter,
)

log = logging.getLogger(__name__)

# Graph API error codes worth retrying: throttling (4, 17, 32, 613, 80007, 130429, 131056
# "pair rate limit") and "temporarily unavailable" (1, 2, 131000, 131016).
RATE_LIMIT_CODES = {4, 17, 32, 613, 80007, 130429, 131056}
TRANSIENT_CODES = {1, 2, 131000, 131016}
# (code, subcode) meaning "the customer last wrote too long ago": WhatsApp's re-engagement
# error, Messenger's and Instagram's "outside of allowed window".
WINDOW_ERRORS = {(131047, None), (10, 2018278), (10, 2534022), (2018108, None)}


class MetaAdapter(BaseAdapter):
    """Signature check and Graph API calls shared by Messenger, Instagram and WhatsApp."""

    accepted_options = frozenset({"app_secret", "graph_url", "api_version"})

    webhook_object = ""  # the `object` this platform's webhooks carry
    platform = "Meta"
    messaging_window = MESSAGING_WINDOW

    # --- inbound -------------------------------------------------------------------------------
    def verify(self, request):
        secret = self.setting("app_secret", "META_APP_SECRET")
        if not secret:
            raise SignatureError("META_APP_SECRET is not set: cannot verify Meta webhooks.")
        given = request.header("X-Hub-Signature-256").strip().lower()
        if not given.startswith("sha256="):
            raise SignatureError("missing X-Hub-Signature-256")
        # HMAC over the raw bytes as received: re-serialised JSON would not match.
        expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not self.secrets_match(given, expected):
            raise SignatureError("bad X-Hub-Signature-256")

    def parse(self, request):
        data = load_json(request.body)
        if data.get("object") != self.webhook_object:
            raise PayloadError(f"expected object {self.webhook_object!r}, got {data.get('object')!r}")
        return self.parse_envelope(data)

    def parse_envelope(self, data: dict) -> list:
        entries = data.get("entry")
        if not isinstance(entries, list):
            raise PayloadError("no entry list")
        items = []
        for entry in entries:  # Meta batches several entries (and events) in one POST
            if not isinstance(entry, dict):
                raise PayloadError("entry is not an object")
            items.extend(self.parse_entry(entry))
        return items

    def parse_entry(self, entry: dict) -> list:  # pragma: no cover - each platform overrides
        raise NotImplementedError

    # --- outbound ------------------------------------------------------------------------------
    def graph_url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            return path
        base = self.setting("graph_url", "GRAPH_API_URL").rstrip("/")
        return f"{base}/{self.setting('api_version', 'GRAPH_API_VERSION')}/{path.lstrip('/')}"

    def graph(self, method: str, path: str, token: str, **kwargs) -> dict:
        """One Graph API call; errors come back classified (permanent or transient)."""
        try:
            with http.client() as client:
                response = client.request(method, self.graph_url(path),
                                          headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientDeliveryError(_("%(platform)s did not answer in time.") % {"platform": self.platform},
                                         code="timeout") from exc
        except httpx.TransportError as exc:
            raise TransientDeliveryError(_("%(platform)s is unreachable: %(error)s")
                                         % {"platform": self.platform, "error": exc}, code="network") from exc
        if response.is_success:
            try:
                return response.json()
            except ValueError as exc:
                raise TransientDeliveryError(_("%(platform)s answered with something that is not JSON.")
                                             % {"platform": self.platform}, code="bad_response") from exc
        raise self.classify(response)

    def classify(self, response: httpx.Response) -> Exception:
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        code, subcode = error.get("code"), error.get("error_subcode")
        detail = error.get("error_user_msg") or (error.get("error_data") or {}).get("details") or error.get("message") or response.reason_phrase
        code_text = f"{code}/{subcode}" if subcode else str(code or response.status_code)
        if (code, subcode) in WINDOW_ERRORS or (code, None) in WINDOW_ERRORS:
            return PermanentDeliveryError(self.window_reason(), code=code_text)
        if code in RATE_LIMIT_CODES or response.status_code == 429:
            return TransientDeliveryError(_("%(platform)s rate limit: %(detail)s") % {"platform": self.platform, "detail": detail},
                                          code=code_text, retry_after=http.retry_after(response))
        if response.status_code >= 500 or code in TRANSIENT_CODES or error.get("is_transient"):
            return TransientDeliveryError(_("%(platform)s is having trouble: %(detail)s") % {"platform": self.platform, "detail": detail},
                                          code=code_text, retry_after=http.retry_after(response))
        if code == 190:
            return PermanentDeliveryError(_("The %(platform)s access token is invalid or expired; an administrator must renew it.")
                                          % {"platform": self.platform}, code=code_text)
        return PermanentDeliveryError(_("%(platform)s refused the message: %(detail)s") % {"platform": self.platform, "detail": detail},
                                      code=code_text)

    def window_reason(self) -> str:
        return _("The customer last wrote more than 24 hours ago; %(platform)s only allows replies "
                 "within 24 hours of their last message.") % {"platform": self.platform}

    def require(self, value: str, name: str) -> str:
        if not value:
            raise PermanentDeliveryError(_("%(platform)s is not configured: set %(name)s.")
                                         % {"platform": self.platform, "name": name}, code="not_configured")
        return value

    # --- compose -------------------------------------------------------------------------------
    def compose_info(self, identity, text: str = "") -> dict:
        """The messaging window the console shows before an agent writes."""
        closes = self.window_closes_at(identity)
        info = {"window_open": self.window_open(identity),
                "window_closes_at": closes.isoformat() if closes else None,
                "max_length": self.max_length}
        if not info["window_open"]:
            info["blocked"] = self.window_reason()
        elif len(text or "") > self.max_length:
            info["blocked"] = _("%(platform)s messages are limited to %(n)s characters.") % {
                "platform": self.platform, "n": self.max_length}
        return info

    max_length = 2000

    def check_window(self, identity) -> None:
        """Refuse a free-form reply outside the window before calling Meta: the answer would be
        the window error anyway, and the agent gets the reason at once."""
        if not self.window_open(identity):
            raise PermanentDeliveryError(self.window_reason(), code="window_closed")

    def check_length(self, text: str) -> None:
        if len(text or "") > self.max_length:
            raise PermanentDeliveryError(_("%(platform)s messages are limited to %(n)s characters.")
                                         % {"platform": self.platform, "n": self.max_length}, code="too_long")


class MetaWebhookAdapter(MetaAdapter):
    """The one webhook URL: verifies once, then lets each platform's adapter parse its entries.
    Options name the HELPDESK_CHANNELS keys of the platform adapters."""

    channel = "meta"

    def __init__(self, key, messenger="messenger", instagram="instagram", whatsapp="whatsapp_cloud", **options):
        super().__init__(key, **options)
        self.targets = {"page": messenger, "instagram": instagram, "whatsapp_business_account": whatsapp}

    def parse(self, request):
        data = load_json(request.body)
        target = self.targets.get(data.get("object"))
        if target is None:
            log.info("ignoring Meta webhook for object %r", data.get("object"))
            return []
        try:
            adapter = get_adapter(target)
        except LookupError as exc:
            # Kept (failed) for replay once the channel is configured.
            raise PayloadError(f"no {target!r} channel configured for Meta object {data['object']!r}") from exc
        return adapter.parse_envelope(data)

    def deliver(self, message):
        raise PermanentDeliveryError(_("Replies go out through the Messenger, Instagram or WhatsApp channel."))
