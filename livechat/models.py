"""Live chat's own rows: website inboxes (one per embedding site) and visitor sessions.

Customers, identities, tickets and messages stay in `tickets`, written only by its services:
a visitor's messages enter through services.ingest() like any other channel's."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_UPLOAD_TYPES = "image/png image/jpeg image/gif image/webp application/pdf text/plain"


def new_secret():
    return secrets.token_urlsafe(32)


def default_upload_bytes():
    return min(10 * 1024 * 1024, settings.HELPDESK_MAX_ATTACHMENT_BYTES)


class Inbox(models.Model):
    """One website that embeds the widget (`data-inbox="<key>"`)."""

    key = models.SlugField(_("key"), max_length=64, unique=True,
                           help_text=_("Public; goes into the embed tag as data-inbox."))
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    allowed_origins = models.TextField(
        _("allowed origins"), blank=True,
        help_text=_("One origin per line (https://www.example.com). The helpdesk's own pages are "
                    "always allowed; '*' allows any site (not recommended)."))
    hmac_secret = models.CharField(
        _("identity secret"), max_length=128, default=new_secret,
        help_text=_("Your server signs logged-in users with it: user_hash = "
                    "HMAC-SHA256(secret, user_id), hex. Never put it in a web page."))
    title = models.CharField(_("widget title"), max_length=100, default=_("Chat with us"))
    greeting = models.CharField(_("greeting"), max_length=300, blank=True,
                                default=_("Hi! Ask us anything, we usually answer in a few minutes."))
    offline_message = models.CharField(
        _("offline message"), max_length=300, blank=True,
        default=_("We're away right now. Leave your email and we'll reply there."))
    prechat_enabled = models.BooleanField(_("ask name and email before the chat"), default=False)
    prechat_require_email = models.BooleanField(_("email required in the pre-chat form"), default=False)
    max_upload_bytes = models.PositiveIntegerField(_("largest upload (bytes)"), default=default_upload_bytes)
    upload_types = models.CharField(
        _("accepted upload types"), max_length=500, default=DEFAULT_UPLOAD_TYPES, blank=True,
        help_text=_("Space-separated MIME types; empty disables uploads."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("chat inbox")
        verbose_name_plural = _("chat inboxes")

    def __str__(self):
        return self.name or self.key

    def origin_list(self) -> list[str]:
        return [line.strip().rstrip("/").lower() for line in self.allowed_origins.splitlines() if line.strip()]

    def upload_type_list(self) -> list[str]:
        return [t.strip().lower() for t in self.upload_types.split() if t.strip()]


class VisitorSession(models.Model):
    """A browser's chat: the signed token names it. Several sessions share one `address` when a
    site identifies its logged-in user (their phone and laptop see one conversation)."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="sessions")
    # The chat identity address: "visitor:<inbox>:<uuid>" or "user:<inbox>:<user_id>".
    address = models.CharField(max_length=320, db_index=True)
    user_id = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200, blank=True)
    # Typed by the visitor: unverified contact information only, never an identity.
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Open sockets; with last_seen_at (heartbeats) it says whether the visitor is still here.
    connections = models.IntegerField(default=0)
    page_url = models.URLField(max_length=1000, blank=True)
    # What agents see beside the chat: where the visitor came from (the first page's referrer),
    # their browser (the raw User-Agent, read by livechat.useragent) and the pages they opened,
    # newest last (at most PAGES_KEPT, with when).
    referrer = models.URLField(max_length=1000, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    pages = models.JSONField(default=list, blank=True)

    PAGES_KEPT = 20

    class Meta:
        verbose_name = _("visitor session")

    def __str__(self):
        return self.address


class Conversation(models.Model):
    """Which tickets a chat address may see: written with each visitor message, in the
    transaction that ingests it (the message's bell must not ring before this row commits).
    The visitor socket's scope and its per-event check read this (indexed) table."""

    address = models.CharField(max_length=320)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("chat conversation")
        constraints = [models.UniqueConstraint(fields=["address", "ticket"], name="chat_conversation_unique")]

    def __str__(self):
        return f"{self.address} -> #{self.ticket_id}"
