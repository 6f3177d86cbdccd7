"""Telegram bots: Bot API webhook updates in, sendMessage / sendDocument out.

The identity is the chat id (a private chat's id is the user's id), which is also where replies
go. A message's external id is "<chat id>:<message id>", so an edited_message can name the
message it changes; a retried update carries the same message and is stored once, and an edit
is keyed by its update_id, so a retried edit is applied once."""

from __future__ import annotations

import logging
import mimetypes
from functools import partial

import httpx
from django.db import transaction
from django.utils.translation import gettext as _

from channels_social import http
from channels_social.parsing import from_seconds, load_json
from tickets.channels import (
    BaseAdapter,
    InboundAttachment,
    InboundMessage,
    PayloadError,
    PermanentDeliveryError,
    SignatureError,
    ThreadHints,
    TransientDeliveryError,
)

log = logging.getLogger(__name__)

FILE_PREFIX = "telegram-file:"  # Attachment.source_url of media to fetch through getFile
CAPTION_LIMIT = 1024
DEFAULT_TYPES = {"photo": "image/jpeg", "video": "video/mp4", "voice": "audio/ogg", "audio": "audio/mpeg",
                 "video_note": "video/mp4", "animation": "video/mp4", "sticker": "image/webp"}
# A profile photo's size to fetch: enough for a 2x avatar, a few KB.
PICTURE_WIDTH = 320
MEDIA_FIELDS = ("document", "video", "audio", "voice", "video_note", "animation", "sticker")


class TelegramAdapter(BaseAdapter):
    channel = "telegram"
    accepted_options = frozenset({"bot_token", "secret_token", "api_url"})
    max_length = 4096

    def token(self) -> str:
        return self.setting("bot_token", "TELEGRAM_BOT_TOKEN")

    def secret(self) -> str:
        return self.setting("secret_token", "TELEGRAM_SECRET_TOKEN")

    def bot_id(self) -> str:
        """The bot written to (the numeric part of its token, which is public): its inbox."""
        return self.token().partition(":")[0] if ":" in self.token() else ""

    # --- inbound -------------------------------------------------------------------------------
    def verify(self, request):
        secret = self.secret()
        if not secret:
            raise SignatureError("TELEGRAM_SECRET_TOKEN is not set: cannot verify Telegram webhooks.")
        if not self.secrets_match(request.header("X-Telegram-Bot-Api-Secret-Token"), secret):
            raise SignatureError("bad X-Telegram-Bot-Api-Secret-Token")

    def parse(self, request):
        update = load_json(request.body)
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            raise PayloadError("Telegram update without update_id")
        if isinstance(update.get("message"), dict):
            return self.message(update["message"], update_id)
        if isinstance(update.get("edited_message"), dict):
            return self.message(update["edited_message"], update_id, edited=True)
        if isinstance(update.get("callback_query"), dict):
            return self.button_press(update["callback_query"], update_id)
        # channel_post, my_chat_member, ...: nothing a customer wrote to us.
        log.info("ignoring Telegram update %s with keys %s", update_id, sorted(update))
        return []

    def message(self, message: dict, update_id: int, edited: bool = False) -> list:
        chat, person = message.get("chat") or {}, message.get("from") or {}
        if chat.get("id") is None or message.get("message_id") is None:
            raise PayloadError("Telegram message without chat.id or message_id")
        if person.get("is_bot"):
            return []
        chat_id = str(chat["id"])
        external_id = f"{chat_id}:{message['message_id']}"
        name = " ".join(filter(None, [person.get("first_name") or chat.get("first_name"),
                                      person.get("last_name") or chat.get("last_name")]))
        name = name or person.get("username") or chat.get("title") or ""
        # The docs' own sample omits chat.type and from.is_bot: treat a missing type as private.
        meta = {"update_id": update_id, "chat_type": chat.get("type") or "private"}
        if person.get("username"):
            meta["username"] = person["username"]
        if person.get("language_code"):  # the user's app language: the ticket's (tickets.language)
            meta["language"] = str(person["language_code"])[:35]
        text = message.get("text") or message.get("caption") or ""
        if edited:
            return [InboundMessage(
                channel=self.channel, adapter=self.key, external_id=f"{external_id}:edit:{update_id}",
                replaces=external_id, sender=chat_id, sender_name=name, text=text, meta=meta,
                timestamp=from_seconds(message.get("edit_date") or message.get("date")), raw=message)]
        reply_to = (message.get("reply_to_message") or {}).get("message_id")
        return [InboundMessage(
            channel=self.channel, adapter=self.key, external_id=external_id, sender=chat_id,
            sender_name=name, text=text, attachments=self.attachments(message), meta=meta,
            timestamp=from_seconds(message.get("date")), raw=message,
            recipient=self.bot_id(),
            hints=ThreadHints(reply_to_external_ids=(f"{chat_id}:{reply_to}",) if reply_to else ()),
        )]

    def button_press(self, query: dict, update_id: int) -> list:
        """A press of one of our inline keyboard buttons (a survey rating): a message whose text
        is the button's label and whose meta carries its data (`callback_data`)."""
        person, message = query.get("from") or {}, query.get("message") or {}
        chat_id = (message.get("chat") or {}).get("id", person.get("id"))
        if chat_id is None or person.get("is_bot") or not query.get("data"):
            return []
        label = next((button.get("text", "") for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                      for button in row if button.get("callback_data") == query["data"]), query["data"])
        name = " ".join(filter(None, [person.get("first_name"), person.get("last_name")])) or person.get("username", "")
        return [InboundMessage(
            channel=self.channel, adapter=self.key, external_id=f"{chat_id}:callback:{query.get('id') or update_id}",
            sender=str(chat_id), sender_name=name, text=label,
            meta={"update_id": update_id, "callback_data": str(query["data"]), "callback_id": str(query.get("id", ""))},
            raw=query)]

    def attachments(self, message: dict) -> tuple[InboundAttachment, ...]:
        found = []
        if message.get("photo"):
            # Telegram sends each photo in several sizes; keep the largest.
            best = max(message["photo"], key=lambda p: (p.get("file_size") or 0, p.get("width") or 0))
            found.append(("photo", best, f"photo-{best.get('file_unique_id') or best['file_id'][:16]}.jpg"))
        for kind in MEDIA_FIELDS:
            item = message.get(kind)
            if isinstance(item, dict) and item.get("file_id"):
                found.append((kind, item, item.get("file_name") or ""))
        result = []
        for kind, item, name in found:
            content_type = item.get("mime_type") or mimetypes.guess_type(name)[0] or DEFAULT_TYPES.get(kind, "application/octet-stream")
            if not name:
                name = f"{kind}{mimetypes.guess_extension(content_type) or ''}"
            result.append(InboundAttachment(filename=name, content_type=content_type, url=FILE_PREFIX + item["file_id"]))
        return tuple(result)

    # --- Bot API -------------------------------------------------------------------------------
    def api_base(self) -> str:
        return self.setting("api_url", "TELEGRAM_API_URL").rstrip("/")

    def api(self, method: str, **kwargs):
        token = self.token()
        if not token:
            raise PermanentDeliveryError(_("Telegram is not configured: set TELEGRAM_BOT_TOKEN."), code="not_configured")
        try:
            with http.client() as client:
                response = client.post(f"{self.api_base()}/bot{token}/{method}", **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientDeliveryError(_("Telegram did not answer in time."), code="timeout") from exc
        except httpx.TransportError as exc:
            # Not str(exc): the URL carries the bot token.
            raise TransientDeliveryError(_("Telegram is unreachable (%(error)s).") % {"error": type(exc).__name__},
                                         code="network") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.is_success and body.get("ok"):
            return body["result"]
        code = body.get("error_code") or response.status_code
        description = body.get("description") or response.reason_phrase
        if code == 429:
            retry_after = (body.get("parameters") or {}).get("retry_after") or http.retry_after(response)
            raise TransientDeliveryError(_("Telegram rate limit: %(detail)s") % {"detail": description},
                                         code="429", retry_after=retry_after)
        if code >= 500 or not body:
            raise TransientDeliveryError(_("Telegram is having trouble: %(detail)s") % {"detail": description}, code=str(code))
        if code == 403:
            raise PermanentDeliveryError(_("Telegram refused: %(detail)s (the customer blocked the bot or never "
                                           "started it).") % {"detail": description}, code="403")
        raise PermanentDeliveryError(_("Telegram refused the message: %(detail)s") % {"detail": description}, code=str(code))

    def deliver(self, message):
        chat_id = message.identity.address
        text = message.text or ""
        if len(text) > self.max_length:
            raise PermanentDeliveryError(_("Telegram messages are limited to %(n)s characters.") % {"n": self.max_length},
                                         code="too_long")
        attachments = list(message.attachments.all())
        # A short text rides along as the first file's caption; a long one goes first on its own.
        caption = text if attachments and text.strip() and len(text) <= CAPTION_LIMIT else ""
        sent = []
        if text.strip() and not caption:
            body = {"chat_id": chat_id, "text": text}
            choices = (message.meta or {}).get("choices")
            if choices:  # answer buttons (a survey): pressing one sends us a callback_query
                body["reply_markup"] = {"inline_keyboard": [[{"text": c["label"], "callback_data": c["value"]}
                                                             for c in choices]]}
            sent.append(self.api("sendMessage", json=body))
        for index, attachment in enumerate(attachments):
            with attachment.file.open("rb") as handle:
                content = handle.read()
            data = {"chat_id": chat_id}
            if index == 0 and caption:
                data["caption"] = caption
            sent.append(self.api("sendDocument", data=data,
                                 files={"document": (attachment.filename, content, attachment.content_type)}))
        if not sent:
            raise PermanentDeliveryError(_("Nothing to send."), code="empty")
        first = sent[0]
        return f"{(first.get('chat') or {}).get('id', chat_id)}:{first['message_id']}"

    def after_ingest(self, results):
        """Telegram shows a spinner on a pressed inline button until the bot answers the
        callback: answer it after commit (a failure only leaves the spinner; it is logged)."""
        for result in results:
            message = getattr(result, "message", None)
            callback_id = (message.meta or {}).get("callback_id") if message is not None else None
            if callback_id and getattr(result, "created", False):
                transaction.on_commit(partial(self.api, "answerCallbackQuery",
                                              json={"callback_query_id": callback_id}), robust=True)

    def fetch_attachment(self, attachment):
        return self.download_file(attachment.source_url.removeprefix(FILE_PREFIX))

    def download_file(self, file_id: str, limit: int | None = None) -> bytes:
        """getFile, then the download: its URL carries the bot token, so the file is always
        fetched here and the URL never leaves the worker."""
        info = self.api("getFile", json={"file_id": file_id})
        if not info.get("file_path"):
            raise PermanentDeliveryError(_("Telegram gave no download path for this file."), code="no_path")
        return http.download(f"{self.api_base()}/file/bot{self.token()}/{info['file_path']}", limit=limit)

    # --- the customer's profile picture (customer_pictures asks, in the worker) -----------------
    def picture_missing_setting(self) -> str:
        """The setting to set before pictures can be fetched, or "" when they can."""
        return "" if self.token() else "TELEGRAM_BOT_TOKEN"

    def profile_picture(self, identity, limit: int) -> bytes | None:
        """The user's current profile photo (getUserProfilePhotos, limit 1), in the largest size
        up to PICTURE_WIDTH px (Telegram offers 160, 320 and 640). None for a group chat (its id
        is negative) or a user whose privacy settings show the bot no photo."""
        if not identity.address.isdigit():
            return None
        found = self.api("getUserProfilePhotos", json={"user_id": int(identity.address), "limit": 1})
        photos = found.get("photos") if isinstance(found, dict) else None
        sizes = [s for s in (photos[0] if photos else []) if isinstance(s, dict) and s.get("file_id")]
        if not sizes:
            return None
        def width(size):
            return size.get("width") or 0

        fitting = [s for s in sizes if width(s) <= PICTURE_WIDTH]
        best = max(fitting, key=width) if fitting else min(sizes, key=width)
        return self.download_file(best["file_id"], limit=limit)

    def set_webhook(self, url: str, drop_pending_updates: bool = False) -> bool:
        """Point the bot at our webhook, with the secret Telegram will echo in every request."""
        secret = self.secret()
        if not secret:
            raise PermanentDeliveryError(_("Set TELEGRAM_SECRET_TOKEN first."), code="not_configured")
        return self.api("setWebhook", json={"url": url, "secret_token": secret,
                                            "allowed_updates": ["message", "edited_message", "callback_query"],
                                            "drop_pending_updates": drop_pending_updates})

    def compose_info(self, identity, text: str = "") -> dict:
        info = {"max_length": self.max_length}
        if len(text or "") > self.max_length:
            info["blocked"] = _("Telegram messages are limited to %(n)s characters.") % {"n": self.max_length}
        return info
