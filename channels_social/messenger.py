"""Messenger and Instagram Direct: the same Send API and the same webhook events.

Identities are the page-scoped id (PSID) or the Instagram-scoped id (IGSID): the address is the
id itself. Our own sends come back as echoes: they confirm the send, they are not new messages."""

from __future__ import annotations

import json
import logging
import mimetypes
import posixpath
from datetime import timedelta
from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.translation import gettext as _

from channels_social import http
from channels_social.meta import MetaAdapter
from channels_social.parsing import from_millis
from tickets.channels import (
    DeliveryUpdate,
    InboundAttachment,
    InboundMessage,
    PayloadError,
    PermanentDeliveryError,
    ThreadHints,
)

log = logging.getLogger(__name__)

DEFAULT_TYPES = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/mpeg", "sticker": "image/png"}
MEDIA_KINDS = {"image", "video", "audio", "file", "sticker", "story_mention"}
HUMAN_AGENT_WINDOW = timedelta(days=7)


def media_attachment(url: str, kind: str, index: int) -> InboundAttachment:
    """A provider-hosted file, downloaded later; its name and type guessed from the URL."""
    name = posixpath.basename(urlsplit(url).path) or ""
    content_type = mimetypes.guess_type(name)[0] or DEFAULT_TYPES.get(kind, "application/octet-stream")
    if not name or "." not in name:
        name = f"{kind}-{index + 1}{mimetypes.guess_extension(content_type) or ''}"
    return InboundAttachment(filename=name, content_type=content_type, url=url)


class MessengerAdapter(MetaAdapter):
    channel = "messenger"
    accepted_options = frozenset({"token", "human_agent_tag"})
    webhook_object = "page"
    platform = "Messenger"
    token_setting = "META_PAGE_TOKEN"  # noqa: S105 - a setting name, not a secret

    def token(self) -> str:
        return self.setting("token", self.token_setting)

    def human_agent_tag(self) -> bool:
        """Meta's HUMAN_AGENT tag (needs the app permission) allows replies for 7 days."""
        return bool(self.setting("human_agent_tag", "META_HUMAN_AGENT_TAG", False))

    def reply_window(self):
        return HUMAN_AGENT_WINDOW if self.human_agent_tag() else super().reply_window()

    # --- inbound -------------------------------------------------------------------------------
    def parse_entry(self, entry):
        events = [e for e in entry.get("messaging") or [] if isinstance(e, dict)]
        # The dashboard's "Test" button and some subscriptions use the changes[] shape instead.
        events += [c["value"] for c in entry.get("changes") or []
                   if isinstance(c, dict) and isinstance(c.get("value"), dict) and "sender" in c["value"]]
        items = []
        for event in events:
            items.extend(self.parse_event(event))
        return items

    def parse_event(self, event: dict) -> list:
        sender = str((event.get("sender") or {}).get("id") or "")
        when = from_millis(event.get("timestamp"))
        if isinstance(event.get("message"), dict):
            message = event["message"]
            if message.get("is_echo"):
                # Our own send (or one from the page's inbox) coming back: confirms it left.
                return [DeliveryUpdate(self.channel, message["mid"], "sent", timestamp=when)] if message.get("mid") else []
            if message.get("is_deleted"):
                return []
            return [self.inbound(event, message, sender, when)]
        if isinstance(event.get("postback"), dict):
            postback = event["postback"]
            return [InboundMessage(
                channel=self.channel, adapter=self.key, sender=sender, timestamp=when,
                external_id=postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}",
                text=postback.get("title") or postback.get("payload") or "",
                meta={"postback": postback.get("payload", "")}, raw=event,
                recipient=str((event.get("recipient") or {}).get("id") or ""))]
        if isinstance(event.get("delivery"), dict):
            delivery = event["delivery"]
            if delivery.get("mids"):
                return [DeliveryUpdate(self.channel, mid, "delivered", timestamp=when) for mid in delivery["mids"]]
            return self.receipts_before(event, "delivered", delivery.get("watermark"))
        if isinstance(event.get("read"), dict):
            read = event["read"]
            if read.get("mid"):  # Instagram names the message it read
                return [DeliveryUpdate(self.channel, read["mid"], "read", timestamp=when)]
            return self.receipts_before(event, "read", read.get("watermark"))
        log.info("ignoring %s event with keys %s", self.channel, sorted(event))
        return []

    def inbound(self, event: dict, message: dict, sender: str, when) -> InboundMessage:
        if not sender or not message.get("mid"):
            raise PayloadError(f"{self.channel} message without sender or mid")
        text = message.get("text") or ""
        attachments, links = [], []
        for index, item in enumerate(message.get("attachments") or []):
            payload = item.get("payload") or {}
            kind = "sticker" if payload.get("sticker_id") else item.get("type", "file")
            url = payload.get("url") or ""
            if url and kind in MEDIA_KINDS:
                attachments.append(media_attachment(url, kind, index))
            elif url:  # shared posts, reels, links: show the link rather than fetch a page
                links.append(f"[{item.get('title') or kind}] {url}")
        if links:
            text = "\n".join(filter(None, [text, *links]))
        reply_to = (message.get("reply_to") or {}).get("mid")
        meta = {}
        if (message.get("quick_reply") or {}).get("payload"):
            meta["quick_reply"] = message["quick_reply"]["payload"]
        return InboundMessage(
            channel=self.channel, adapter=self.key, external_id=message["mid"], sender=sender,
            text=text, attachments=tuple(attachments), timestamp=when, meta=meta, raw=event,
            hints=ThreadHints(reply_to_external_ids=(reply_to,) if reply_to else ()),
            recipient=str((event.get("recipient") or {}).get("id") or ""),  # the page / IG account
        )

    def receipts_before(self, event: dict, status: str, watermark) -> list:
        """Messenger receipts may carry only a watermark: everything we sent to this person up
        to that moment was delivered/read. Reads (never writes) our sent messages to name them."""
        from tickets.models import Message

        until = from_millis(watermark)
        customer = str((event.get("sender") or {}).get("id") or "")
        if until is None or not customer:
            return []
        ids = (Message.objects.filter(channel=self.channel, direction=Message.Direction.OUTBOUND,
                                      identity__address=customer, external_id__isnull=False,
                                      created_at__lte=until,
                                      status__in=[Message.Status.SENT, Message.Status.DELIVERED])
               .values_list("external_id", flat=True))
        return [DeliveryUpdate(self.channel, mid, status, timestamp=until) for mid in ids]

    # --- outbound ------------------------------------------------------------------------------
    def deliver(self, message):
        token = self.require(self.token(), self.token_setting)
        self.check_length(message.text)
        self.check_window(message.identity)
        recipient = {"id": message.identity.address}
        routing = {"messaging_type": "RESPONSE"}
        last = message.identity.last_inbound_at
        if self.human_agent_tag() and last and timezone.now() - last > super().reply_window():
            routing = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        sent = []
        if message.text.strip():
            body = {"recipient": recipient, **routing, "message": {"text": message.text}}
            choices = (message.meta or {}).get("choices")
            if choices:  # answer buttons (a survey): a tap comes back as message.quick_reply
                body["message"]["quick_replies"] = [{"content_type": "text", "title": c["label"][:20],
                                                     "payload": c["value"]} for c in choices]
            sent.append(self.graph("POST", "me/messages", token, json=body)["message_id"])
        for attachment in message.attachments.all():
            sent.append(self.send_file(token, recipient, routing, attachment))
        if not sent:
            raise PermanentDeliveryError(_("Nothing to send."), code="empty")
        return sent[0]

    def send_file(self, token, recipient, routing, attachment) -> str:
        kind = attachment.content_type.split("/")[0]
        kind = kind if kind in ("image", "video", "audio") else "file"
        with attachment.file.open("rb") as handle:
            content = handle.read()
        form = {"recipient": json.dumps(recipient), **routing,
                "message": json.dumps({"attachment": {"type": kind, "payload": {"is_reusable": False}}})}
        files = {"filedata": (attachment.filename, content, attachment.content_type)}
        return self.graph("POST", "me/messages", token, data=form, files=files)["message_id"]

    def fetch_attachment(self, attachment):
        # Messenger and Instagram media URLs are signed CDN links: no token needed.
        return http.download(attachment.source_url)

    # --- the customer's profile picture (customer_pictures asks, in the worker) -----------------
    def picture_missing_setting(self) -> str:
        """The setting to set before pictures can be fetched, or "" when they can."""
        return "" if self.token() else self.token_setting

    def profile_picture(self, identity, limit: int) -> bytes | None:
        """The customer's picture from the Graph API's user profile (Messenger's User Profile
        API, Instagram's user profile API: the same `profile_pic` field). Its URL is a signed CDN
        link that expires, so the bytes are downloaded now. None when they show us none."""
        token = self.require(self.token(), self.token_setting)
        if not identity.address.isdigit():  # PSIDs and IGSIDs are numbers; nothing else goes in a path
            return None
        profile = self.graph("GET", identity.address, token, params={"fields": "profile_pic"})
        url = profile.get("profile_pic") if isinstance(profile, dict) else None
        return http.download(url, limit=limit) if isinstance(url, str) and url.startswith("https://") else None


class InstagramAdapter(MessengerAdapter):
    channel = "instagram"
    accepted_options = frozenset({"page_token"})
    webhook_object = "instagram"
    platform = "Instagram"
    max_length = 1000

    token_setting = "META_INSTAGRAM_TOKEN"  # noqa: S105 - a setting name, not a secret

    def token(self) -> str:
        token = self.setting("token", "META_INSTAGRAM_TOKEN")
        return token or self.setting("page_token", "META_PAGE_TOKEN")

    def deliver(self, message):
        # Checked before anything is sent, so the text never goes out without its files.
        if message.attachments.exists():
            raise PermanentDeliveryError(_("Instagram only accepts files by public link; send the "
                                           "file another way or paste a link."), code="attachments")
        return super().deliver(message)
