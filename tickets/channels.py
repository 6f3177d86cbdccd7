"""The seam between providers and the domain.

A channel adapter does two things and nothing else: turn a verified provider request into
`InboundMessage`s (and `DeliveryUpdate`s), and deliver one outbound Message, returning the
provider's id or raising a classified error. It never touches Customer, Ticket or Message rows:
`tickets.services` does. Adapters are named in settings.HELPDESK_CHANNELS, in the style of
Django's EMAIL_BACKEND, and loaded with get_adapter().
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django.http import HttpRequest

    from tickets.models import Attachment, Message


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str = "application/octet-stream"
    content: bytes | None = None  # None: fetch `url` in the background with the adapter
    url: str = ""
    content_id: str = ""
    inline: bool = False


@dataclass(frozen=True)
class ThreadHints:
    """What the provider tells us about which conversation this belongs to.

    `ticket_id` must only be set from something we minted and verified (an HMAC reply token);
    even then ingest() checks the sender is a participant of that ticket. `reply_to_external_ids`
    names earlier messages (In-Reply-To/References, a reply-to mid). `related_ticket_id` is an
    unverified claim (a subject tag): it never threads, it only links a new ticket as related.
    """

    ticket_id: int | None = None
    reply_to_external_ids: tuple[str, ...] = ()
    session: str = ""
    related_ticket_id: int | None = None
    # False for media where a fresh message without reply headers starts a new conversation.
    join_open_ticket: bool = True


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # the medium and identity namespace: email, sms, whatsapp, messenger, ...
    external_id: str  # provider id: Message-ID, MessageSid, mid, update_id; unique per channel
    sender: str  # normalised address: lower-case email, E.164, page-scoped id, visitor id
    sender_name: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""  # sanitised again by ingest(); adapters may pass the provider's HTML
    attachments: tuple[InboundAttachment, ...] = ()
    hints: ThreadHints = field(default_factory=ThreadHints)
    timestamp: datetime | None = None
    adapter: str = ""  # HELPDESK_CHANNELS key; defaults to `channel`
    # Other identities the provider vouches are the same person (a WhatsApp WaId is its phone
    # number): a *new* identity joins the customer who already owns one of these.
    linked_identities: tuple[tuple[str, str], ...] = ()
    # Set on an edit: the external_id of the message it replaces (Telegram edited_message).
    replaces: str = ""
    # Stop/start keywords and similar identity-level signals: "opt_out" | "opt_in" | "".
    identity_signal: str = ""
    meta: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)  # a JSON-able copy of the provider payload
    # Where the customer wrote to (our support address, Twilio number, page, bot, chat inbox):
    # with the channel it names the ticket's inbox (inbox_key). Empty: the channel's default.
    recipient: str = ""
    # Addresses on this channel the sender copied in (an email's Cc): ingest lets them join the
    # ticket as participants when the sender may hand out access (services.participants).
    cc: tuple[str, ...] = ()
    # The channel asks for an automatic "we got your message" when this opens a ticket: ingest
    # calls the acknowledger the channel registered (services.acknowledgements).
    acknowledge: bool = False

    @property
    def adapter_key(self) -> str:
        return self.adapter or self.channel

    @property
    def inbox(self) -> str:
        return inbox_key(self.channel, self.recipient)


def inbox_key(channel: str, recipient: str = "") -> str:
    """The plain string a ticket records as its inbox: "email:support@x.test", "sms:+1415...",
    "chat:demo"; the bare channel ("email") is that channel's default inbox (today's
    single-address settings). Apps that route (e.g. routing/) map keys to names and teams."""
    recipient = (recipient or "").strip()
    return f"{channel}:{recipient}"[:200] if recipient else channel


@dataclass(frozen=True)
class DeliveryUpdate:
    """A provider telling us what became of a message we sent (status callback, receipt, bounce)."""

    channel: str
    external_id: str  # the provider id deliver() returned
    status: str  # sent | delivered | read | failed
    error_code: str = ""
    error_message: str = ""
    timestamp: datetime | None = None


@dataclass(frozen=True)
class RawRequest:
    """A provider request as bytes, so it can be stored and replayed without the live request."""

    method: str
    path: str
    content_type: str
    headers: dict[str, str]
    body: bytes
    query: str = ""
    # An admin let this payload through the quarantine (admin action / replay_inbound
    # --let-through): adapters skip their soft checks (flood limits, loop rules, size), never
    # the signature or the parser.
    released: bool = False

    @classmethod
    def from_django(cls, request: HttpRequest) -> RawRequest:
        return cls(
            method=request.method,
            path=request.get_full_path(),
            content_type=request.content_type or "",
            headers={k: v for k, v in request.headers.items() if k.lower() != "cookie"},
            body=request.body,
            query=request.META.get("QUERY_STRING", ""),
        )

    def header(self, name: str, default: str = "") -> str:
        name = name.lower()
        for key, value in self.headers.items():
            if key.lower() == name:
                return value
        return default

    def form(self):
        """The url-encoded body as a QueryDict (Twilio and friends): parsed once per request,
        though both the signature check and the parser read it (an immutable QueryDict)."""
        from django.http import QueryDict

        if "_form" not in self.__dict__:
            self.__dict__["_form"] = QueryDict(self.body, encoding="utf-8")  # frozen: not via setattr
        return self.__dict__["_form"]


class ChannelError(Exception):
    """Base for adapter errors; `code` is the provider's code, `reason` what an agent reads."""

    def __init__(self, reason: str, code: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.code = str(code or "")


class SignatureError(ChannelError):
    """The request is not from the provider (bad or missing signature or secret): 403."""


class PayloadError(ChannelError):
    """The request is authentic but cannot be understood: 400, payload kept for replay."""


class Quarantined(PayloadError):
    """Authentic but not to be processed now (oversize, unparseable, a flooding sender): the
    payload is kept as `quarantined` for an admin to replay or discard; the provider gets 200."""


class PermanentDeliveryError(ChannelError):
    """Retrying cannot help (invalid number, opted out, 24-hour window, hard bounce).
    `opted_out`: the provider says the recipient unsubscribed from this channel (Twilio 21610),
    so the identity is marked opted out and the console stops offering it."""

    def __init__(self, reason: str, code: str = "", opted_out: bool = False):
        super().__init__(reason, code)
        self.opted_out = opted_out


class TransientDeliveryError(ChannelError):
    """Worth retrying with backoff (rate limit, 5xx, timeout)."""

    def __init__(self, reason: str, code: str = "", retry_after: float | None = None):
        super().__init__(reason, code)
        self.retry_after = retry_after


@runtime_checkable
class ChannelAdapter(Protocol):
    key: str  # the HELPDESK_CHANNELS key
    channel: str  # the medium this adapter carries

    def verify(self, request: RawRequest) -> None:
        """Raise SignatureError unless the request provably comes from the provider."""

    def parse(self, request: RawRequest) -> list[InboundMessage | DeliveryUpdate]:
        """Turn a verified request into messages and delivery updates (PayloadError if not)."""

    def after_ingest(self, results: list) -> None:
        """The channel's own follow-up to what its payload became (IngestResults and delivery
        updates), inside the same transaction: a replay runs it too, a failure undoes it."""

    def after_processing(self, request: RawRequest) -> None:
        """The request was processed whole: called inside its last transaction, beside the
        payload's mark (a replay calls it too, a failure undoes it)."""

    def acknowledge(self, request: RawRequest, items: list) -> HttpResponse:
        """The response the provider expects once its request is safely stored."""

    def deliver(self, message: Message) -> str:
        """Send one outbound message; return the provider's id or raise a *DeliveryError."""

    def fetch_attachment(self, attachment: Attachment) -> bytes:
        """Download provider-hosted media named by attachment.source_url."""

    def compose_info(self, identity, text: str = "") -> dict:
        """What the console shows before an agent sends on this channel, e.g.
        {"segments": 2, "encoding": "GSM-7", "window_open": False, "window_closes_at": iso,
         "templates": [{"id": "HX...", "name": "...", "variables": [...]}],
         "blocked": "reason the send would be refused"}. Empty when nothing applies.
        A reply with meta={"template": {"id": ..., "variables": {...}}} sends a template."""


# WhatsApp (through Twilio or the Cloud API), Messenger and Instagram accept free-form replies
# only within this long of the customer's last message; the one definition for every channel.
MESSAGING_WINDOW = timedelta(hours=24)


class BaseAdapter:
    """Defaults for the optional parts of the protocol; subclasses set `channel`."""

    channel = ""
    # None: the channel has no messaging window (email, SMS, chat, Telegram).
    messaging_window: timedelta | None = None
    # The HELPDESK_CHANNELS options this class reads through self.options / setting(), besides
    # its __init__ arguments; a subclass lists only its own (they add up along the MRO). Any
    # other key is refused, as Django refuses unknown mail OPTIONS: a typo must not silently
    # fall back to the global setting.
    accepted_options: frozenset[str] = frozenset()

    def __init__(self, key: str, **options):
        self.key = key
        unknown = sorted(set(options) - self.known_options())
        if unknown:
            accepted = ", ".join(sorted(self.known_options())) or "none"
            raise ImproperlyConfigured(
                f"HELPDESK_CHANNELS[{key!r}]: unknown option {', '.join(map(repr, unknown))} for "
                f"{type(self).__name__} (options it reads here: {accepted}).")
        self.options = options

    @classmethod
    def known_options(cls) -> frozenset[str]:
        return frozenset().union(*(vars(k).get("accepted_options", ()) for k in cls.__mro__))

    def setting(self, option: str, name: str, default=""):
        """An option from this adapter's HELPDESK_CHANNELS entry, else the Django setting `name`
        (read at call time, so tests and operators can change it without a restart)."""
        value = self.options.get(option)
        return value if value not in (None, "") else getattr(settings, name, default)

    def reply_window(self) -> timedelta | None:
        return self.messaging_window

    def window_closes_at(self, identity) -> datetime | None:
        """When free-form replies to this identity stop being allowed: None when the channel
        has no window, or when the customer never wrote (then the window was never open)."""
        window = self.reply_window()
        last = getattr(identity, "last_inbound_at", None)
        return last + window if window is not None and last is not None else None

    def window_open(self, identity, now: datetime | None = None) -> bool:
        if self.reply_window() is None:
            return True
        closes = self.window_closes_at(identity)
        return closes is not None and (now or _now()) < closes

    def verify(self, request: RawRequest) -> None:  # pragma: no cover - every adapter overrides
        raise SignatureError("This adapter accepts no webhooks.")

    def parse(self, request: RawRequest) -> list[InboundMessage | DeliveryUpdate]:
        raise PayloadError("This adapter accepts no webhooks.")

    def after_ingest(self, results: list) -> None:
        return None

    def after_processing(self, request: RawRequest) -> None:
        return None

    def acknowledge(self, request: RawRequest, items: list) -> HttpResponse:
        return HttpResponse("ok", content_type="text/plain")

    def deliver(self, message: Message) -> str:
        raise PermanentDeliveryError(f"The {self.key} channel cannot send messages.")

    def fetch_attachment(self, attachment: Attachment) -> bytes:
        raise PermanentDeliveryError(f"The {self.key} channel cannot download media.")

    def compose_info(self, identity, text: str = "") -> dict:
        return {}

    @staticmethod
    def secrets_match(given: str | bytes, expected: str | bytes) -> bool:
        """Constant-time comparison for shared secrets and signatures."""
        if not given or not expected:
            return False
        if isinstance(given, str):
            given = given.encode()
        if isinstance(expected, str):
            expected = expected.encode()
        return hmac.compare_digest(given, expected)


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


def channel_config() -> dict:
    return getattr(settings, "HELPDESK_CHANNELS", {})


@cache
def _load(key: str, spec) -> ChannelAdapter:
    if isinstance(spec, str):
        path, options = spec, {}
    else:
        spec = dict(spec)
        path, options = spec.pop("BACKEND"), spec
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"HELPDESK_CHANNELS[{key!r}]: cannot import {path!r}") from exc
    return cls(key, **options)


def get_adapter(key: str) -> ChannelAdapter:
    """The adapter configured under `key` in HELPDESK_CHANNELS (a dotted path, or a dict with
    BACKEND and options). Raises LookupError for a channel that is not configured."""
    config = channel_config()
    if key not in config:
        raise LookupError(f"No channel {key!r} in HELPDESK_CHANNELS.")
    spec = config[key]
    return _load(key, spec if isinstance(spec, str) else tuple(sorted(spec.items())))


def adapters_for_channel(channel: str) -> list[str]:
    """The adapter keys able to carry a medium, in settings order (the first is the default)."""
    return [key for key in channel_config() if getattr(get_adapter(key), "channel", key) == channel]


def clear_adapter_cache() -> None:
    _load.cache_clear()
