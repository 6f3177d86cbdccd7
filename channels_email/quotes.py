"""Separating what the customer wrote from the quoted history and their signature.

mail-parser-reply (maintained, multi-language) finds the "On ... wrote:" / Outlook "From:" /
"-----Original Message-----" headers of every client; we additionally drop a trailing block of
">"-quoted lines it leaves when a client quotes without a header. The full original is kept by
the caller (Message.meta) so nothing is lost when the split is wrong.
"""

from __future__ import annotations

import re
from functools import cache

from django.conf import settings
from mailparser_reply import EmailReplyParser

# The reply is at the top; the parser's regexes are slow on huge bodies (0.5 s for 250 kB), so
# only the head is searched for the quote header.
HEAD_CHARS = 20_000
_TRAILING_QUOTE = re.compile(r"(?:\n[ \t]*>[^\n]*)+\s*$")


@cache
def _parser(languages: tuple[str, ...]) -> EmailReplyParser:
    return EmailReplyParser(languages=list(languages))


def visible_reply(text: str) -> str:
    """The latest reply in `text`, without quoted history or signature; `text` itself when the
    split would leave nothing (a message that is only a quote is still a message)."""
    if not text or not text.strip():
        return ""
    languages = tuple(getattr(settings, "HELPDESK_EMAIL_REPLY_LANGUAGES", ("en", "de", "fr", "es")))
    head = text[:HEAD_CHARS]
    try:
        reply = _parser(languages).parse_reply(head) or ""
    except Exception:  # noqa: BLE001 - a third-party regex engine on hostile input: keep it all
        reply = head
    if len(text) > HEAD_CHARS and len(reply.strip()) >= len(head.strip()) - 100:
        return text.strip()  # no quote header in the head: the whole long message is the reply
    reply = _TRAILING_QUOTE.sub("", "\n" + reply).strip()
    return reply or text.strip()
