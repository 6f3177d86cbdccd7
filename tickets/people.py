"""How a person is named wherever someone reads it. One definition each, so an agent is never
"alice" in one place and "Alice Smith" in another, and a customer we know nothing about is
never "Customer 8" in the queue and a chat token on the ticket page.

* display_name(user): an agent (timelines, events, presence, the chat widget's "Alice is typing").
* customer_name(name, identities, customer_id): a customer. Their name when we have one; else what
  their identities tell: a name a channel gave, an email address, a phone number as people write
  it ("+1 415-555-0101"), a stable "Visitor 4821" for an anonymous chat visitor (never the token).
"""

from __future__ import annotations

import zlib

import phonenumbers
from django.utils.translation import gettext as _

from tickets.addresses import PHONE_CHANNELS
from tickets.models import Identity


def display_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def format_phone(number: str) -> str:
    """An E.164 number as people write it (+1 415-555-0101); anything unparsable as it is."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(number, None),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return number


def visitor_number(address: str) -> int:
    """A four-digit number for an anonymous chat visitor, the same for every look at the same
    address (a CRC, not the token: the token is a secret of the visitor's browser)."""
    return 1000 + zlib.crc32(address.encode()) % 9000


def identity_label(channel: str, address: str, display_name: str = "") -> str:
    """How one identity reads when its customer has no name."""
    if display_name:
        return display_name
    if channel in PHONE_CHANNELS:
        return format_phone(address)
    if channel == "chat":
        if address.startswith("user:"):  # a site's verified user: their id on that site
            return _("Site user %(id)s") % {"id": address.rsplit(":", 1)[-1]}
        return _("Visitor %(number)s") % {"number": visitor_number(address)}
    if channel == "email" or "@" in address:
        return address
    return _("%(channel)s user %(number)s") % {"channel": channel.capitalize(), "number": visitor_number(address)}


# Which identity names a nameless customer best: a name a channel gave, then the address a person
# recognises (email, phone), then the anonymous ones.
_PREFERENCE = {"email": 1, "sms": 2, "whatsapp": 2, "voice": 2}


def customer_name(name: str, identities=(), customer_id=None) -> str:
    """`identities`: objects or dicts with channel, address and display_name (any order)."""
    if name:
        return name
    rows = [(i["channel"], i["address"], i.get("display_name") or "") if isinstance(i, dict)
            else (i.channel, i.address, i.display_name or "") for i in identities]
    if rows:
        channel, address, given = min(rows, key=lambda r: (not r[2], _PREFERENCE.get(r[0], 3), r[1]))
        return identity_label(channel, address, given)
    return _("Customer %(id)s") % {"id": customer_id} if customer_id is not None else _("Unknown customer")


def customer_names(pairs) -> dict:
    """{customer_id: name} for (customer_id, name) pairs: one query for the nameless ones'
    identities, whatever their number (the queue and search lists)."""
    names = dict(pairs)
    nameless = [pk for pk, name in names.items() if not name]
    identities: dict[int, list] = {}
    for row in Identity.objects.filter(customer_id__in=nameless).values("customer_id", "channel", "address",
                                                                         "display_name"):
        identities.setdefault(row["customer_id"], []).append(row)
    return {pk: customer_name(name, identities.get(pk, ()), pk) for pk, name in names.items()}
