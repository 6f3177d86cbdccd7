"""Twilio SMS and WhatsApp adapters: signed webhooks in, `messages.create` out.

Configured in HELPDESK_CHANNELS as "sms" -> SmsAdapter and "whatsapp" -> WhatsAppAdapter. Both
carry the same Twilio account; options given there (account_sid, auth_token, timeout, from_,
templates) override the TWILIO_* settings."""

from __future__ import annotations

import json
import mimetypes
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from channels_sms import errors
from channels_sms.http import TwilioHttp
from channels_sms.keywords import is_help, keyword_signal
from channels_sms.media import media_url
from channels_sms.models import WebhookReceipt
from channels_sms.segments import sms_segments
from tickets.addresses import InvalidAddress, normalise_phone
from tickets.channels import (
    MESSAGING_WINDOW,
    BaseAdapter,
    DeliveryUpdate,
    InboundAttachment,
    InboundMessage,
    PayloadError,
    PermanentDeliveryError,
    RawRequest,
    SignatureError,
    TransientDeliveryError,
)
from tickets.models import Attachment, Message

WHATSAPP_PREFIX = "whatsapp:"
MAX_BODY_CHARS = 1600  # Twilio refuses longer bodies (error 21617)
MAX_MEDIA = 10  # MediaUrl values per message
EMPTY_TWIML = str(MessagingResponse())  # the answer to every inbound message: built once

# Twilio MessageStatus -> our status. queued/accepted/scheduled/sending say nothing new about a
# message we already hold as queued, and receiving/received belong to inbound messages.
STATUS_MAP = {
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.READ,
    "failed": Message.Status.FAILED,
    "undelivered": Message.Status.FAILED,
    "canceled": Message.Status.FAILED,
    "partially_delivered": Message.Status.SENT,
}


def strip_prefix(address: str, prefix: str) -> str:
    return address[len(prefix):] if prefix and address.lower().startswith(prefix) else address


# Twilio sends it with every webhook and again with a resend of one it saw no answer to.
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


def idempotency_token(request) -> str:
    """The I-Twilio-Idempotency-Token of a RawRequest or a Django request ("" if none)."""
    token = (request.header(IDEMPOTENCY_HEADER) if isinstance(request, RawRequest)
             else request.headers.get(IDEMPOTENCY_HEADER, ""))
    return token[:200]  # WebhookReceipt.token's length


def is_whatsapp_payload(form) -> bool:
    """Status callbacks share one URL: WhatsApp ones carry the whatsapp: prefix."""
    return (form.get("ChannelPrefix", "").lower() == "whatsapp"
            or form.get("To", "").lower().startswith(WHATSAPP_PREFIX)
            or form.get("From", "").lower().startswith(WHATSAPP_PREFIX))


class TwilioAdapter(BaseAdapter):
    channel = ""
    prefix = ""  # how Twilio spells this medium's addresses ("whatsapp:+1415...")
    from_setting = ""

    def __init__(self, key, account_sid=None, auth_token=None, timeout=None, from_=None,
                 templates=None, **options):
        super().__init__(key, **options)
        self._account_sid, self._auth_token, self._from = account_sid, auth_token, from_
        self._templates = templates
        self.http = TwilioHttp(timeout=float(timeout or getattr(settings, "TWILIO_TIMEOUT", 10)))

    # Settings are read at use, so a changed setting needs no adapter cache reset.
    @property
    def account_sid(self) -> str:
        return self._account_sid or getattr(settings, "TWILIO_ACCOUNT_SID", "")

    @property
    def auth_token(self) -> str:
        return self._auth_token or getattr(settings, "TWILIO_AUTH_TOKEN", "")

    # --- inbound ----------------------------------------------------------------------------
    def after_processing(self, request):
        """A processed request's idempotency token is recorded in its processing transaction
        (one statement, no commit of its own), so a resend is answered without a second pass."""
        token = idempotency_token(request)
        if token:  # a concurrent resend may have recorded it first: that is no error
            WebhookReceipt.objects.bulk_create([WebhookReceipt(token=token)], ignore_conflicts=True)

    def verify(self, request):
        """X-Twilio-Signature over the public URL Twilio called (HELPDESK_PUBLIC_URL, so it holds
        behind a TLS-terminating proxy) plus every posted parameter, known or not."""
        signature = request.header("X-Twilio-Signature")
        if not signature:
            raise SignatureError(_("missing X-Twilio-Signature"))
        if not self.auth_token:
            raise SignatureError(_("TWILIO_AUTH_TOKEN is not configured"))
        url = settings.HELPDESK_PUBLIC_URL + request.path
        if not RequestValidator(self.auth_token).validate(url, request.form(), signature):
            raise SignatureError(_("X-Twilio-Signature does not match"))

    def parse(self, request):
        form = request.form()
        if form.get("MessageStatus") and "Body" not in form:
            update = self.delivery_update(form)
            return [update] if update else []
        return [self.inbound_message(form)]

    def inbound_message(self, form) -> InboundMessage:
        sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid")
        if not sid:
            raise PayloadError(_("no MessageSid in the Twilio request"))
        try:
            sender = self.sender_of(form)
        except InvalidAddress as exc:
            raise PayloadError(str(exc)) from exc
        body = form.get("Body", "")
        to = form.get("To", "")
        signal = keyword_signal(self.channel, body)
        return InboundMessage(
            channel=self.channel, adapter=self.key, external_id=sid, sender=sender,
            sender_name=self.sender_name_of(form), text=body,
            attachments=tuple(self.media_of(form)),
            linked_identities=self.linked_of(sender),
            identity_signal=signal,
            # The number (or sender) the customer wrote to: replies go out from it.
            meta={"twilio": {"to": strip_prefix(to, self.prefix),
                             "messaging_service_sid": form.get("MessagingServiceSid", ""),
                             "keyword": signal or ("help" if is_help(body) else "")}},
            raw={k: form.get(k) for k in form},
            recipient=strip_prefix(to, self.prefix),  # the Twilio number / WhatsApp sender: its inbox
        )

    def sender_of(self, form) -> str:
        return normalise_phone(form.get("From", ""))

    def sender_name_of(self, form) -> str:
        return ""

    def linked_of(self, sender: str) -> tuple:
        return ()

    def media_of(self, form):
        try:
            count = int(form.get("NumMedia") or 0)
        except ValueError as exc:
            raise PayloadError(_("NumMedia is not a number")) from exc
        # Twilio sends at most MAX_MEDIA files per message: a forged-looking NumMedia of a billion
        # must not keep the request busy counting.
        for index in range(max(0, min(count, MAX_MEDIA))):
            url = form.get(f"MediaUrl{index}", "")
            if not url:
                continue
            content_type = form.get(f"MediaContentType{index}", "") or "application/octet-stream"
            media_sid = url.rstrip("/").rsplit("/", 1)[-1]
            extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
            yield InboundAttachment(filename=f"{media_sid}{extension}", content_type=content_type,
                                    content=None, url=url)

    def delivery_update(self, form) -> DeliveryUpdate | None:
        status = STATUS_MAP.get(form.get("MessageStatus", "").lower())
        sid = form.get("MessageSid") or form.get("SmsSid")
        if status is None or not sid:
            return None
        code = form.get("ErrorCode", "")
        failed = status == Message.Status.FAILED
        return DeliveryUpdate(
            channel="whatsapp" if is_whatsapp_payload(form) else "sms", external_id=sid, status=status,
            error_code=code if failed else "",
            error_message=errors.meaning(code, form.get("ErrorMessage", "")) if failed else "",
        )

    def acknowledge(self, request, items):
        # Empty TwiML: no auto-reply; agents answer from the console.
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")

    # --- outbound ---------------------------------------------------------------------------
    def client(self) -> Client:
        if not (self.account_sid and self.auth_token):
            raise PermanentDeliveryError(_("Twilio is not configured (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)."))
        return Client(self.account_sid, self.auth_token, http_client=self.http)

    def deliver(self, message):
        identity = message.identity
        if identity.opted_out_at is not None:
            raise PermanentDeliveryError(str(errors.MEANINGS["21610"]), code="21610")
        params = {"to": self.prefix + identity.address, "from_": self.prefix + self.sender_for(message),
                  "status_callback": self.status_callback_url(message)}
        template = (message.meta or {}).get("template")
        if template:
            params["content_sid"] = template["id"]
            params["content_variables"] = json.dumps(template.get("variables") or {})
        else:
            self.check_free_form(message)
            if message.text:
                params["body"] = message.text
            media = [media_url(a) for a in message.attachments.filter(state=Attachment.State.STORED)]
            if len(media) > MAX_MEDIA:
                raise PermanentDeliveryError(_("Twilio sends at most %(max)d files with one message.") % {"max": MAX_MEDIA},
                                             code="too_many_media")
            if media:
                params["media_url"] = media  # Twilio fetches each one (see channels_sms/media.py)
        client = self.client()
        try:
            return client.messages.create(**params).sid
        except TwilioRestException as exc:
            last = self.http.last_response
            retry_after = errors.parse_retry_after(last.headers.get("Retry-After")) if last is not None else None
            raise errors.classify(exc.status, exc.code, exc.msg, retry_after) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientDeliveryError(_("Twilio did not answer in time: %(error)s") % {"error": type(exc).__name__},
                                         code="timeout") from exc

    def check_free_form(self, message) -> None:
        if len(message.text) > MAX_BODY_CHARS:
            raise PermanentDeliveryError(str(errors.MEANINGS["21617"]), code="21617")

    def sender_for(self, message) -> str:
        """The number the customer wrote to on this ticket (then anywhere on this identity),
        else the configured default sender."""
        inbound = Message.objects.filter(channel=message.channel, direction=Message.Direction.INBOUND)
        for scope in (inbound.filter(ticket_id=message.ticket_id), inbound.filter(identity_id=message.identity_id)):
            for meta in scope.order_by("-created_at", "-pk").values_list("meta", flat=True)[:20]:
                to = ((meta or {}).get("twilio") or {}).get("to")
                if to:
                    return to
        default = self._from or getattr(settings, self.from_setting, "")
        if default:
            return strip_prefix(default, self.prefix)
        raise PermanentDeliveryError(
            _("No %(channel)s sender: the customer never wrote to one of our numbers and %(setting)s is not set.")
            % {"channel": self.channel, "setting": self.from_setting})

    def status_callback_url(self, message) -> str:
        return f"{settings.HELPDESK_PUBLIC_URL}{reverse('twilio-status')}?message={message.pk}"

    def fetch_attachment(self, attachment):
        """Download MMS/WhatsApp media with the account's credentials. The credentials only ever
        go to Twilio's own API host, whatever URL a payload names."""
        url = attachment.source_url
        parts = urlsplit(url)
        if parts.scheme != "https" or not (parts.hostname or "").endswith(".twilio.com"):
            raise PermanentDeliveryError(_("refusing to download media from %(host)s") % {"host": parts.hostname})
        try:
            response = self.http.request("GET", url, auth=(self.account_sid, self.auth_token),
                                         allow_redirects=True)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientDeliveryError(_("Twilio media did not download: %(error)s") % {"error": type(exc).__name__}) from exc
        if response.status_code == 200:
            return response.body
        if response.status_code in (403, 404, 410):
            raise PermanentDeliveryError(_("Twilio no longer has this media (HTTP %(status)s).")
                                         % {"status": response.status_code}, code=str(response.status_code))
        raise TransientDeliveryError(_("Twilio media download failed (HTTP %(status)s).")
                                     % {"status": response.status_code}, code=str(response.status_code),
                                     retry_after=errors.parse_retry_after(response.headers.get("Retry-After")))


class SmsAdapter(TwilioAdapter):
    channel = "sms"
    from_setting = "TWILIO_SMS_FROM"

    def linked_of(self, sender):
        return (("whatsapp", sender),)

    def compose_info(self, identity, text=""):
        # Files go out as MMS (Twilio: US and Canadian numbers; elsewhere it answers with an error).
        info = {**sms_segments(text).as_dict(), "attachments": True}
        if identity is not None and identity.opted_out_at is not None:
            info["blocked"] = str(errors.MEANINGS["21610"])
        elif len(text or "") > MAX_BODY_CHARS:
            info["blocked"] = str(errors.MEANINGS["21617"])
        return info


class WhatsAppAdapter(TwilioAdapter):
    channel = "whatsapp"
    messaging_window = MESSAGING_WINDOW
    prefix = WHATSAPP_PREFIX
    from_setting = "TWILIO_WHATSAPP_FROM"

    def sender_of(self, form):
        # WaId is the customer's WhatsApp number without "+": the same E.164 identity the
        # WhatsApp Cloud API adapter uses, so both reach one customer.
        return normalise_phone(form.get("WaId") or form.get("From", ""))

    def sender_name_of(self, form):
        return form.get("ProfileName", "")

    def linked_of(self, sender):
        return (("sms", sender),)

    @property
    def templates(self) -> list[dict]:
        return list(self._templates if self._templates is not None
                    else getattr(settings, "TWILIO_WHATSAPP_TEMPLATES", []))

    def check_free_form(self, message):
        super().check_free_form(message)
        if not self.window_open(message.identity):
            # Fail before calling Twilio: the answer would be 63016 anyway.
            raise PermanentDeliveryError(str(errors.MEANINGS["63016"]), code="63016")

    def compose_info(self, identity, text=""):
        closes = self.window_closes_at(identity)
        is_open = self.window_open(identity)
        info = {"window_open": is_open, "window_closes_at": closes.isoformat() if closes else None,
                "templates": self.templates, "attachments": True}
        if identity is not None and identity.opted_out_at is not None:
            info["blocked"] = str(errors.MEANINGS["21610"])
        elif not is_open:
            info["blocked"] = str(errors.MEANINGS["63016"])
        return info
