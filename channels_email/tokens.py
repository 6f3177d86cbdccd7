"""Threading tokens: the proof that a reply belongs to a ticket.

Every outbound mail carries a Message-ID and a Reply-To that we mint with an HMAC naming the
ticket. A reply's In-Reply-To/References (or the plus-address it was sent to) carries the token
back; only a token that verifies may set ThreadHints.ticket_id. Subject tags ("[#1234]") are
never trusted. Tokens are lower-case hex so MTAs that fold local parts keep them intact.
"""

from __future__ import annotations

import re
import uuid

from django.utils.crypto import constant_time_compare, salted_hmac

from channels_email import conf

_SALT = "channels_email.tokens"
_MSGID = re.compile(r"<?hd\.(\d{1,12})-([0-9a-f]{16})\.[^@<>\s]+@[^<>\s]+>?", re.I)
_PLUS = re.compile(r"\+t(\d{1,12})-([0-9a-f]{16})@", re.I)
_SUBJECT_TAG = re.compile(r"\[#(\d{1,12})\]")


def signature(ticket_id: int) -> str:
    return salted_hmac(_SALT, str(int(ticket_id)), algorithm="sha256").hexdigest()[:16]


def token(ticket_id: int) -> str:
    return f"{int(ticket_id)}-{signature(ticket_id)}"


def _valid(ticket_id: str, sig: str) -> int | None:
    return int(ticket_id) if constant_time_compare(sig.lower(), signature(int(ticket_id))) else None


def message_id(ticket_id: int, unique: str | None = None) -> str:
    """<hd.<ticket>-<hmac>.<unique>@domain>; `unique` is the message pk (deterministic, so a
    retried send keeps its id) or a random string for mail we do not store (acknowledgements)."""
    unique = unique or uuid.uuid4().hex
    return f"<hd.{token(ticket_id)}.{unique}@{conf.support_domain()}>"


def reply_address(ticket_id: int, address: str = "") -> str:
    """The ticket's plus-address on `address` (a mailbox's own, e.g. billing@), else ours."""
    local, _, domain = (address or conf.support_address()).partition("@")
    return f"{local}+t{token(ticket_id)}@{domain}"


def ticket_from_message_ids(ids) -> int | None:
    """The ticket named by the newest verified Message-ID among `ids` (References order)."""
    for value in reversed(list(ids)):
        match = _MSGID.search(value or "")
        if match:
            ticket = _valid(*match.groups())
            if ticket is not None:
                return ticket
    return None


def ticket_from_addresses(addresses) -> int | None:
    """The ticket named by a verified plus-address among the recipients."""
    for address in addresses:
        match = _PLUS.search(address or "")
        if match:
            ticket = _valid(*match.groups())
            if ticket is not None:
                return ticket
    return None


def subject_ticket(subject: str) -> int | None:
    """An unverified claim: only ever used as ThreadHints.related_ticket_id."""
    match = _SUBJECT_TAG.search(subject or "")
    return int(match.group(1)) if match else None


def subject_tag(ticket_id: int) -> str:
    return f"[#{int(ticket_id)}]"
