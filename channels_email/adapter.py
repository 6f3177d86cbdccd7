"""The email channel's adapters (HELPDESK_CHANNELS).

    "email":          {"BACKEND": "channels_email.adapter.EmailAdapter"}               outbound
    "email_mailgun":  {"BACKEND": "channels_email.adapter.EmailAdapter", "esp": "mailgun"}
    "email_pipe":     {"BACKEND": "channels_email.adapter.MtaPipeAdapter"}             manage.py ingest_email
    "email_import":   {"BACKEND": "channels_email.adapter.MtaPipeAdapter", "acknowledge": False}
                                                                                       manage.py import_mbox

Every email adapter delivers the same way (Django mailers); an `esp` adapter also accepts that
ESP's anymail inbound and tracking webhooks, validated and parsed by anymail's own views.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging

from django.http import HttpResponse
from django.utils.translation import gettext as _

from channels_email import esp as esp_views
from channels_email import inbound, mime, outbound
from tickets import safejson
from tickets.channels import (
    BaseAdapter,
    DeliveryUpdate,
    PayloadError,
    Quarantined,
    SignatureError,
)

log = logging.getLogger(__name__)

# anymail EventType -> our delivery status (others, e.g. deferred or unsubscribed, are ignored).
TRACKING_STATUS = {
    "sent": "sent", "queued": "sent", "delivered": "delivered", "opened": "read", "clicked": "read",
    "bounced": "failed", "rejected": "failed", "failed": "failed", "complained": "failed",
}


class EmailAdapter(BaseAdapter):
    channel = "email"
    accepted_options = frozenset({"acknowledge"})

    def __init__(self, key, esp=None, **options):
        super().__init__(key, **options)
        if esp is not None and esp not in esp_views.VIEWS and esp not in esp_views.TRACKING_ONLY:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(f"HELPDESK_CHANNELS[{key!r}]: anymail has no {esp!r} webhooks")
        if esp == "amazon_ses" and importlib.util.find_spec("boto3") is None:
            from django.core.exceptions import ImproperlyConfigured

            # Refuse at start-up rather than answer every SES notification with a 500.
            raise ImproperlyConfigured(
                f"HELPDESK_CHANNELS[{key!r}]: Amazon SES webhooks need boto3: pip install -e '.[ses]'")
        self.esp = esp

    @property
    def sends_acknowledgements(self) -> bool:
        """Option "acknowledge": False for history being imported (import_mbox's adapter)."""
        return self.options.get("acknowledge", True)

    # --- inbound ----------------------------------------------------------------------------
    def _is_tracking(self, raw) -> bool:
        # One adapter serves both URLs; the stored path says which (Mandrill: one view for both).
        return "/tracking/" in raw.path

    def verify(self, raw):
        if not self.esp:
            raise SignatureError(_("This email adapter accepts no webhooks."))
        from anymail.exceptions import (
            AnymailConfigurationError,
            AnymailError,
            AnymailWebhookValidationFailure,
        )

        try:
            view = esp_views.anymail_view(self.esp, self._is_tracking(raw))
        except AnymailConfigurationError as exc:
            # An ESP listed without its signing key (e.g. POSTAL_WEBHOOK_KEY): refused like an
            # unsigned request, with the setting named, instead of a 500 per delivery.
            raise SignatureError(_("The %(esp)s webhook is not configured: %(error)s")
                                 % {"esp": self.esp, "error": exc}) from exc
        if not getattr(view, "basic_auth", None):
            raise SignatureError(_("ANYMAIL_WEBHOOK_SECRET is not configured: webhook refused."))
        request = esp_views.django_request(raw)
        try:
            view.run_validators(request)
        except AnymailWebhookValidationFailure as exc:
            raise SignatureError(str(exc)) from exc
        except (AnymailError, ValueError, KeyError) as exc:
            raise SignatureError(f"{type(exc).__name__}: {exc}") from exc
        stale = esp_views.check_fresh(self.esp, request)
        if stale:
            raise SignatureError(stale)

    def parse(self, raw):
        from anymail.exceptions import AnymailError
        from anymail.signals import AnymailInboundEvent

        view = esp_views.anymail_view(self.esp, self._is_tracking(raw))
        raw = _safe_json_body(raw)
        try:
            events = view.parse_events(esp_views.django_request(raw))
        except RecursionError as exc:  # a MIME tree nested thousands deep: keep it, do not retry
            raise Quarantined(_("unparseable mail: nested too deeply")) from exc
        except (AnymailError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PayloadError(f"{type(exc).__name__}: {exc}") from exc
        items = []
        for event in events:
            if event is None:  # anymail's "nothing here", e.g. Mailtrap's "Test your integration" post
                continue
            if isinstance(event, AnymailInboundEvent):
                items += self._inbound(event, raw)
            else:
                update = self._tracking(event)
                if update is not None:
                    items.append(update)
        return items

    def _inbound(self, event, raw) -> list:
        message = event.message
        return inbound.to_items(
            message, adapter_key=self.key, raw=raw.body, size=len(raw.body),
            envelope_sender=getattr(message, "envelope_sender", None),
            stripped_text=getattr(message, "stripped_text", None) or None,
            spam_score=getattr(message, "spam_score", None), release=raw.released,
            acknowledge=self.sends_acknowledgements,
        )

    def _tracking(self, event) -> DeliveryUpdate | None:
        status = TRACKING_STATUS.get(event.event_type)
        metadata = event.metadata if isinstance(event.metadata, dict) else {}
        external_id = (metadata.get("helpdesk_message_id")
                       or (event.message_id and outbound.our_message_id(event.message_id))
                       or event.message_id or "")
        if status is None or not external_id:
            return None
        if not external_id.startswith("<") and "@" in external_id:
            external_id = f"<{external_id}>"
        reason = event.description or event.mta_response or event.reject_reason or ""
        if status == "failed" and event.event_type == "complained":
            reason = reason or _("The recipient reported this message as spam.")
        return DeliveryUpdate(channel="email", external_id=external_id, status=status,
                              error_code=str(event.reject_reason or event.event_type)[:64] if status == "failed" else "",
                              error_message=str(reason) if status == "failed" else "",
                              timestamp=event.timestamp)

    def acknowledge(self, raw, items):
        return HttpResponse("ok", content_type="text/plain")

    # --- outbound ---------------------------------------------------------------------------
    def send_about_ticket(self, ticket_id: int, *, key: str, subject: str, body: str, to: list[str],
                          author_name: str = "") -> str:
        """Mail about a ticket that another part of the helpdesk sends (live chat's offline
        reply), threaded like our replies: its Message-ID and Reply-To carry the ticket's HMAC
        token, so the answer comes back into this ticket. `key` makes the Message-ID unique
        within the ticket. Returns the Message-ID; raises the classified delivery errors."""
        from django.core.mail import EmailMessage

        from channels_email import tokens

        msgid = tokens.message_id(ticket_id, key)
        mail = EmailMessage(subject=subject, body=body, from_email=outbound.sender_address(author_name),
                            to=to, headers={"Message-ID": msgid, "Reply-To": tokens.reply_address(ticket_id)})
        outbound.send(mail)
        return msgid

    def sender_for(self, message) -> tuple[str, object | None]:
        """(support address, mail backend) for mail on this message's ticket: ours and the
        configured mailer here; a mailbox's adapter answers with its own address and SMTP."""
        return "", None

    def deliver(self, message):
        address, backend = self.sender_for(message)
        mail = outbound.build_reply(message, address=address)
        outbound.send(mail, backend=backend)
        return mail.extra_headers["Message-ID"]


def _safe_json_body(raw):
    """A JSON webhook body checked with the shared safe loader before anymail reads it: absurd
    nesting, NaN and the like are a PayloadError; lone surrogates, which anymail would pass on
    to the database write, are replaced (the body is re-encoded only then)."""
    if "json" not in raw.content_type.lower():
        return raw
    try:
        value = safejson.loads(raw.body, expect=None)
    except safejson.BadJson as exc:
        raise PayloadError(exc.reason) from exc
    if safejson.has_escaped_surrogate(raw.body):
        raw = dataclasses.replace(raw, body=json.dumps(value).encode())
    return raw


class MtaPipeAdapter(EmailAdapter):
    """Raw RFC 5322 bytes from `manage.py ingest_email` (Postfix/Exim pipe) or a replay."""

    def verify(self, raw):
        raise SignatureError(_("The MTA pipe is not reachable over HTTP."))

    def parse(self, raw):
        if not raw.released:
            inbound.check_size(len(raw.body))
        try:
            message = mime.parse_bytes(raw.body)
        except Exception as exc:  # noqa: BLE001 - the stdlib parser rarely raises; if it does, quarantine
            raise Quarantined(f"unparseable mail: {type(exc).__name__}: {exc}") from exc
        return inbound.to_items(message, adapter_key=self.key, raw=raw.body, release=raw.released,
                                acknowledge=self.sends_acknowledgements)
