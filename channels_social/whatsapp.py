"""WhatsApp through Meta's Cloud API.

The identity is the same as Twilio's WhatsApp channel: channel "whatsapp", address the E.164
form of the wa_id. A customer writing from one number through either provider is therefore one
Identity, one customer, one history. Users who hide their number behind a WhatsApp username
arrive with only a business-scoped user id (BSUID): they get a "whatsapp_bsuid" identity, and a
later message carrying both ids links the two (the provider vouches for it)."""

from __future__ import annotations

import logging
import mimetypes

from django.utils.translation import gettext as _

from channels_social import http
from channels_social.meta import MetaAdapter
from channels_social.parsing import from_seconds
from tickets.addresses import InvalidAddress, normalise_phone
from tickets.channels import (
    DeliveryUpdate,
    InboundAttachment,
    InboundMessage,
    PayloadError,
    PermanentDeliveryError,
    ThreadHints,
)

log = logging.getLogger(__name__)

BSUID_CHANNEL = "whatsapp_bsuid"
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
STATUSES = {"sent", "delivered", "read", "failed"}


class WhatsAppCloudAdapter(MetaAdapter):
    channel = "whatsapp"
    accepted_options = frozenset({"token", "phone_number_id", "templates", "template_language"})
    webhook_object = "whatsapp_business_account"
    platform = "WhatsApp"
    max_length = 4096

    def token(self) -> str:
        return self.setting("token", "WHATSAPP_CLOUD_TOKEN")

    def phone_number_id(self) -> str:
        return self.setting("phone_number_id", "WHATSAPP_PHONE_NUMBER_ID")

    def templates(self) -> list[dict]:
        return list(self.setting("templates", "WHATSAPP_TEMPLATES", []) or [])

    def window_reason(self) -> str:
        return _("The customer last wrote more than 24 hours ago; WhatsApp only allows an approved "
                 "template message now. Send a template instead.")

    # --- inbound -------------------------------------------------------------------------------
    def parse_entry(self, entry):
        items = []
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value") or {}
            contacts = {}
            for contact in value.get("contacts") or []:
                for key in (contact.get("wa_id"), contact.get("user_id")):
                    if key:
                        contacts[key] = contact
            for message in value.get("messages") or []:
                inbound = self.inbound(message, contacts, value)
                if inbound is not None:
                    items.append(inbound)
            # Receipts for what we sent arrive on the same URL, under "statuses".
            items.extend(filter(None, (self.status(s) for s in value.get("statuses") or [])))
        return items

    def inbound(self, message: dict, contacts: dict, value: dict) -> InboundMessage | None:
        wa_id, bsuid = message.get("from") or "", message.get("from_user_id") or ""
        contact = contacts.get(wa_id) or contacts.get(bsuid) or {}
        bsuid = bsuid or contact.get("user_id") or ""
        if wa_id:
            try:
                channel, sender = self.channel, normalise_phone(wa_id)
            except InvalidAddress as exc:
                raise PayloadError(f"bad WhatsApp sender {wa_id!r}") from exc
            linked = ((BSUID_CHANNEL, bsuid),) if bsuid else ()
        elif bsuid:
            channel, sender, linked = BSUID_CHANNEL, bsuid, ()
        else:
            raise PayloadError("WhatsApp message without a sender")
        if not message.get("id"):
            raise PayloadError("WhatsApp message without an id")
        kind = message.get("type") or ""
        if kind == "reaction":
            return None  # an emoji on an earlier message, not something to answer
        text, attachments, meta = self.content(kind, message)
        if bsuid:
            meta["whatsapp_user_id"] = bsuid
        if (value.get("metadata") or {}).get("phone_number_id"):
            meta["phone_number_id"] = value["metadata"]["phone_number_id"]
        reply_to = (message.get("context") or {}).get("id")
        return InboundMessage(
            channel=channel, adapter=self.key, external_id=message["id"], sender=sender,
            sender_name=(contact.get("profile") or {}).get("name", ""), text=text,
            attachments=tuple(attachments), timestamp=from_seconds(message.get("timestamp")),
            hints=ThreadHints(reply_to_external_ids=(reply_to,) if reply_to else ()),
            linked_identities=linked, meta=meta, raw=message,
            # The business number written to: its display form when Meta gives it (the same
            # inbox as a Twilio WhatsApp sender on that number), else its phone-number id.
            recipient=_business_number(value.get("metadata") or {}),
        )

    def content(self, kind: str, message: dict) -> tuple[str, list, dict]:
        body = message.get(kind) if isinstance(message.get(kind), dict) else {}
        if kind == "text":
            return body.get("body", ""), [], {}
        if kind in MEDIA_TYPES and body.get("id"):
            content_type = (body.get("mime_type") or "application/octet-stream").split(";")[0].strip()
            name = body.get("filename") or f"{kind}{mimetypes.guess_extension(content_type) or ''}"
            # The Graph URL of the media object: fetch_attachment asks it for the download link.
            return body.get("caption", ""), [InboundAttachment(filename=name, content_type=content_type,
                                                               url=self.graph_url(body["id"]))], {}
        if kind == "location":
            place = ", ".join(filter(None, [body.get("name"), body.get("address")]))
            return _("Location: %(place)s (%(lat)s, %(lon)s)") % {
                "place": place, "lat": body.get("latitude"), "lon": body.get("longitude")}, [], {}
        if kind == "button":
            return body.get("text", ""), [], {"button": body.get("payload", "")}
        if kind == "interactive":
            choice = body.get("button_reply") or body.get("list_reply") or {}
            return choice.get("title", ""), [], {"choice": choice.get("id", "")}
        if kind == "contacts":
            names = [(c.get("name") or {}).get("formatted_name", "") for c in message.get("contacts") or []]
            return _("Shared contact: %(names)s") % {"names": ", ".join(filter(None, names))}, [], {}
        return _("(a %(kind)s message this helpdesk cannot show)") % {"kind": kind or "unknown"}, [], {"unsupported": kind}

    def status(self, item: dict) -> DeliveryUpdate | None:
        status = item.get("status")
        if status not in STATUSES or not item.get("id"):
            return None
        channel = self.channel if item.get("recipient_id") or not item.get("recipient_user_id") else BSUID_CHANNEL
        code, reason = "", ""
        if status == "failed":
            error = (item.get("errors") or [{}])[0]
            code = str(error.get("code", ""))
            reason = (self.window_reason() if error.get("code") == 131047 else
                      (error.get("error_data") or {}).get("details") or error.get("message") or error.get("title") or "")
        return DeliveryUpdate(channel, item["id"], status, error_code=code, error_message=reason,
                              timestamp=from_seconds(item.get("timestamp")))

    # --- outbound ------------------------------------------------------------------------------
    def deliver(self, message):
        token = self.require(self.token(), "WHATSAPP_CLOUD_TOKEN")
        number = self.require(self.phone_number_id(), "WHATSAPP_PHONE_NUMBER_ID")
        identity = message.identity
        if identity.channel == BSUID_CHANNEL:
            to = {"recipient": identity.address}
        else:
            to = {"to": identity.address.lstrip("+")}
        base = {"messaging_product": "whatsapp", "recipient_type": "individual", **to}
        sent = []
        template = (message.meta or {}).get("template")
        if template:
            sent.append(self.send(number, token, {**base, "type": "template",
                                                  "template": self.template_body(template)}))
        else:
            self.check_window(identity)  # outside it only a template may go out
            self.check_length(message.text)
        if not template and message.text.strip():
            sent.append(self.send(number, token, {**base, "type": "text",
                                                  "text": {"body": message.text, "preview_url": False}}))
        for attachment in message.attachments.all():
            kind = self.media_kind(attachment.content_type)
            media = {"id": self.upload(number, token, attachment)}
            if kind == "document":
                media["filename"] = attachment.filename
            sent.append(self.send(number, token, {**base, "type": kind, kind: media}))
        if not sent:
            raise PermanentDeliveryError(_("Nothing to send."), code="empty")
        return sent[0]

    def send(self, number: str, token: str, body: dict) -> str:
        result = self.graph("POST", f"{number}/messages", token, json=body)
        try:
            return result["messages"][0]["id"]
        except (KeyError, IndexError, TypeError) as exc:
            raise PermanentDeliveryError(_("WhatsApp accepted the message but returned no id."), code="no_id") from exc

    def upload(self, number: str, token: str, attachment) -> str:
        with attachment.file.open("rb") as handle:
            content = handle.read()
        result = self.graph("POST", f"{number}/media", token,
                            data={"messaging_product": "whatsapp", "type": attachment.content_type},
                            files={"file": (attachment.filename, content, attachment.content_type)})
        return result["id"]

    @staticmethod
    def media_kind(content_type: str) -> str:
        major = content_type.split("/")[0]
        if content_type in ("image/jpeg", "image/png"):
            return "image"
        if major in ("video", "audio"):
            return major
        return "document"

    def template_body(self, template: dict) -> dict:
        name = template.get("id") or template.get("name") or ""
        known = {t.get("id"): t for t in self.templates()}
        if not name or (known and name not in known):
            raise PermanentDeliveryError(_("%(name)s is not one of the approved WhatsApp templates.")
                                         % {"name": name or "?"}, code="unknown_template")
        language = (template.get("language") or known.get(name, {}).get("language")
                    or self.setting("template_language", "WHATSAPP_TEMPLATE_LANGUAGE", "en_US"))
        variables = template.get("variables") or {}
        if isinstance(variables, list):
            variables = {str(i + 1): v for i, v in enumerate(variables)}
        parameters = []
        # Positional ({{1}}, {{2}}) in number order; named ones carry their parameter_name.
        for key in sorted(variables, key=lambda k: (not str(k).isdigit(), int(k) if str(k).isdigit() else 0, str(k))):
            parameter = {"type": "text", "text": str(variables[key])}
            if not str(key).isdigit():
                parameter["parameter_name"] = str(key)
            parameters.append(parameter)
        body = {"name": name, "language": {"code": language}}
        if parameters:
            body["components"] = [{"type": "body", "parameters": parameters}]
        return body

    def fetch_attachment(self, attachment):
        token = self.require(self.token(), "WHATSAPP_CLOUD_TOKEN")
        # Two steps: the media object names a short-lived URL that also needs the token.
        info = self.graph("GET", attachment.source_url, token)
        if not info.get("url"):
            raise PermanentDeliveryError(_("WhatsApp returned no download link for this media."), code="no_url")
        return http.download(info["url"], headers={"Authorization": f"Bearer {token}"})

    def compose_info(self, identity, text: str = "") -> dict:
        info = super().compose_info(identity, text)
        info["templates"] = [
            {"id": t.get("id"), "name": t.get("name") or t.get("id"), "language": t.get("language", ""),
             "variables": list(t.get("variables") or []), "text": t.get("text", "")}
            for t in self.templates()
        ]
        return info


def _business_number(metadata: dict) -> str:
    display = metadata.get("display_phone_number") or ""
    if display:
        try:
            return normalise_phone(display)
        except InvalidAddress:
            pass
    return str(metadata.get("phone_number_id") or "")
