"""Normalising addresses, so one person is one Identity per channel.

Only exact, canonical forms are compared; nothing is matched because it "looks alike"."""

from functools import lru_cache

import phonenumbers
from django.conf import settings

PHONE_CHANNELS = {"sms", "whatsapp", "voice"}


class InvalidAddress(ValueError):
    pass


def normalise_email(address: str) -> str:
    address = (address or "").strip().strip("<>").strip()
    if "@" not in address:
        raise InvalidAddress(f"not an email address: {address!r}")
    return address.lower()


def normalise_phone(number: str, region: str | None = None) -> str:
    """E.164 (+14155550100). Accepts whatsapp:-prefixed Twilio addresses and bare WhatsApp
    wa_ids (digits with the country code but no plus)."""
    value = (number or "").strip()
    if value.lower().startswith("whatsapp:"):
        value = value.split(":", 1)[1]
    if value and value[0].isdigit() and len(value) > 10:
        value = "+" + value
    try:
        return _e164(value, region or settings.HELPDESK_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidAddress(f"not a phone number: {number!r}") from exc
    except ValueError as exc:
        raise InvalidAddress(f"not a possible phone number: {number!r}") from exc


@lru_cache(maxsize=4096)
def _e164(value: str, region: str | None) -> str:
    """Cached: parsing is ~0.1 ms a number, and a webhook normalises its sender's more than
    once (the sender, its linked identities); the same customers write again and again.
    Failures are not cached (lru_cache keeps only returned values)."""
    parsed = phonenumbers.parse(value, region)
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(value)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_address(channel: str, address: str) -> str:
    if channel == "email":
        return normalise_email(address)
    if channel in PHONE_CHANNELS:
        return normalise_phone(address)
    value = (address or "").strip()
    if not value:
        raise InvalidAddress(f"empty {channel} address")
    return value
