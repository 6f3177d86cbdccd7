"""The email channel's settings, read at call time so tests can override them."""

from email.utils import parseaddr
from functools import lru_cache

from django.conf import settings


def support_address() -> str:
    """The address customers write to and replies come from (HELPDESK_FROM_EMAIL)."""
    return _address_in(settings.DEFAULT_FROM_EMAIL)


@lru_cache(maxsize=8)
def _address_in(from_email: str) -> str:
    # Cached by the setting's value (tests override it): every mail asks several times.
    return parseaddr(from_email)[1].lower() or "support@example.com"


def support_domain() -> str:
    return support_address().rpartition("@")[2]


def own_addresses() -> set[str]:
    """Addresses that are ours: mail *from* them is a loop, never a customer."""
    extra = list(getattr(settings, "HELPDESK_EMAIL_OWN_ADDRESSES", []))
    # Apps that add support addresses (mailboxes) name a callable here, e.g. "app.module.func".
    for path in getattr(settings, "HELPDESK_EMAIL_ADDRESS_SOURCES", []):
        from django.utils.module_loading import import_string

        extra += import_string(path)()
    return {support_address(), *(a.strip().lower() for a in extra if a.strip())}


def max_bytes() -> int:
    return int(getattr(settings, "HELPDESK_EMAIL_MAX_BYTES", 25 * 1024 * 1024))


def sender_hourly_limit() -> int:
    return int(getattr(settings, "HELPDESK_EMAIL_SENDER_HOURLY_LIMIT", 20))


def auto_acknowledge() -> bool:
    return bool(getattr(settings, "HELPDESK_EMAIL_AUTO_ACK", True))


def mailer() -> str:
    return settings.HELPDESK_EMAIL_MAILER
