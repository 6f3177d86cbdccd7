"""Secrets at rest (IMAP/SMTP passwords, OAuth tokens): Fernet with a key from the environment.

HELPDESK_ENCRYPTION_KEY holds one or more Fernet keys, comma-separated, newest first: the first
encrypts, all decrypt (MultiFernet), so a key is rotated by prepending a new one and running
`manage.py rotate_mailbox_secrets`. Without it the key is derived from DJANGO_SECRET_KEY, so a
development install works out of the box; production should set its own.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """A stored secret was encrypted with a key we no longer have."""


@lru_cache(maxsize=4)
def _fernet(keys: str, secret_key: str) -> MultiFernet:
    if keys.strip():
        try:
            return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                "HELPDESK_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes), "
                "comma-separated; make one with `manage.py generate_encryption_key`") from exc
    derived = hashlib.sha256(b"helpdesk.mailboxes.secrets:" + secret_key.encode()).digest()
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def fernet() -> MultiFernet:
    return _fernet(getattr(settings, "HELPDESK_ENCRYPTION_KEY", ""), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("a stored secret cannot be decrypted with HELPDESK_ENCRYPTION_KEY") from exc


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode() if token else ""
