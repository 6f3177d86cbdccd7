"""API tokens and remembered idempotent responses."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "hd_"  # noqa: S105 (a public marker, not a secret)


def hash_secret(raw: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: nothing to brute-force, unlike a
    # password, and every API request pays for this.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token that acts as one user: an agent's own token, or an integration's service
    user. The API applies that user's console permissions; the secret itself is never stored."""

    name = models.CharField(_("name"), max_length=100, help_text=_("What uses it, e.g. 'CRM sync'."))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name=_("acts as"))
    # The public part of the token, shown in the admin so a leaked token can be found and revoked.
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")

    def __str__(self):
        return f"{self.name} ({TOKEN_PREFIX}{self.prefix}_…)"

    def set_new_secret(self) -> str:
        """Give the token a fresh secret; returns it (the only time it is ever visible)."""
        self.prefix = secrets.token_hex(4)
        raw = f"{TOKEN_PREFIX}{self.prefix}_{secrets.token_urlsafe(32)}"
        self.key_hash = hash_secret(raw)
        return raw

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotencyKey(models.Model):
    """The first successful response to a POST carrying an Idempotency-Key, per token, so a
    retried request (a timeout, a crashed client) replays it instead of creating anything
    twice. A row without a status is a request still running (a lock)."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="idempotency_keys")
    key = models.CharField(max_length=255)
    # Method, path and a hash of the body: the same key with another request is a client bug.
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # The rendered body, as text: a jsonb column would reorder keys and the replay would differ.
    response = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="api_idempotency_unique_key")]

    def __str__(self):
        return f"{self.key} ({self.method} {self.path})"
