"""Separating what the customer typed from the quoted history and their signature.

Four layers, each tested on its own (tests/test_email_reply_split.py):
1. the HTML structure (channels_email.reply_html): where the client says its quote is;
2. our own sent text (channels_email.reply_sent): we know what we wrote, so finding it in the
   reply finds the quote whatever the client, language or date format;
3. reply headers and separators in many languages (channels_email.reply_patterns);
4. the signature: the "-- " delimiter and mobile "Sent from my ..." lines are split off into a
   part of their own, never deleted.
Interleaved replies (answers between quoted lines) are kept whole: no answer may be lost. The
caller keeps the full original text and HTML on the message whatever is decided here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from channels_email import reply_html, reply_sent
from channels_email.mime import html_to_text
from channels_email.reply_patterns import (
    ATTRIBUTION_ADDRESS,
    DEVICE,
    FIELD_LINE,
    FORWARDED,
    FROM_LINE,
    HAS_DIGIT,
    ORIGINAL_LINE,
    RULE_LINE,
    SENT_FROM_LINE,
    SIGNATURE_DELIMITER,
    WROTE_LINE,
)

# Headers and separators are searched in the head only: the reply is at the top, and a 250 kB
# body must not cost a regex pass per line (a long message without a quote is all reply).
HEAD_LINES = 400
_QUOTE_PREFIX = re.compile(r"^(?:[ \t]*>)+[ \t]?")
_MAX_ATTRIBUTION = 320


@dataclass(frozen=True)
class Split:
    visible: str  # what the customer typed
    signature: str = ""  # their "-- " signature or mobile "Sent from my ..." line
    quoted: str = ""  # the history they quoted

    @property
    def hidden(self) -> str:
        """Everything split off, for the console's "show quoted text" toggle."""
        return "\n\n".join(part for part in (self.signature, self.quoted) if part)


def split_reply(text: str, html: str = "", sent: tuple[str, ...] | list[str] = ()) -> Split:
    """The visible reply of a mail whose plain text is `text` and HTML `html` (either may be
    empty); `sent` holds the texts we sent that this mail may quote."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    quoted_html = ""
    if html:
        found = reply_html.split(html)
        if found is not None and found.interleaved:
            return _signature_split(text.strip() or found.visible_text)
        if found is not None and found.visible_text.strip():
            text, quoted_html = found.visible_text, found.quoted_text
        elif not text.strip():
            text = html_to_text(html)
    if not text.strip():
        return Split(visible="", quoted=quoted_html)
    visible, quoted = _cut_quote(text, sent)
    quoted = "\n\n".join(part for part in (quoted, quoted_html) if part.strip())
    split = _signature_split(visible)
    if not split.visible:  # only a signature and a quote: show it all rather than nothing
        return Split(visible=text.strip())
    return Split(visible=split.visible, signature=split.signature, quoted=quoted)


def visible_reply(text: str, html: str = "", sent=()) -> str:
    return split_reply(text, html, sent).visible


# --- layers 2 and 3: where does the quote start? ----------------------------------------------

def _bare(line: str) -> str:
    return _QUOTE_PREFIX.sub("", line).strip()


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _attribution_end(lines: list[str], i: int) -> int | None:
    """The index of the last line of an attribution starting at line i, or None."""
    joined = ""
    for k in range(3):
        if i + k >= len(lines):
            return None
        part = _bare(lines[i + k])
        if not part:
            return None
        joined = f"{joined} {part}".strip()
        if len(joined) > _MAX_ATTRIBUTION:
            return None
        if joined[-1] in ":：" and (HAS_DIGIT.search(joined) or "@" in joined):
            tail = joined[-60:]
            if WROTE_LINE.search(tail) or ATTRIBUTION_ADDRESS.search(joined):
                return i + k
        if k == 0 and i and _bare(lines[i - 1]):
            return None  # a wrapped attribution starts a paragraph: never glue the reply's last line
        if part[-1] in ".!?":
            return None
    return None


def _outlook_block(lines: list[str], i: int) -> bool:
    if not FROM_LINE.match(_bare(lines[i])):
        return False
    fields = sum(1 for line in lines[i + 1:i + 9] if FIELD_LINE.match(_bare(line)))
    return fields >= 2


def _header_start(lines: list[str], i: int) -> bool:
    bare = _bare(lines[i])
    if not bare:
        return False
    if ORIGINAL_LINE.match(bare):
        return True
    if RULE_LINE.match(bare):
        following = [j for j in range(i + 1, min(i + 4, len(lines))) if _bare(lines[j])]
        return bool(following) and _outlook_block(lines, following[0])
    if ":" in bare[:40] and _outlook_block(lines, i):
        return True
    return _attribution_end(lines, i) is not None


def _header_above(lines: list[str], match: int) -> int:
    """Where the quote of our text starting at line `match` begins: the reply header (any
    language, any shape) directly above it, when there is one."""
    j = match - 1
    while j >= 0 and not _bare(lines[j]):
        j -= 1
    top = j + 1
    for k in range(j, max(j - 10, -1), -1):
        bare = _bare(lines[k])
        if not bare:
            break
        if _header_start(lines, k):
            top = k
    if top == j + 1 and j >= 0:
        # No known pattern: an unknown attribution still ends with ":" and carries the date.
        bare = _bare(lines[j])
        if bare.endswith((":", "：")) and HAS_DIGIT.search(bare) and len(bare) <= _MAX_ATTRIBUTION:
            top = j
            if j and _bare(lines[j - 1]) and len(_bare(lines[j - 1]) + bare) <= _MAX_ATTRIBUTION \
                    and not _bare(lines[j - 1]).endswith((".", "!", "?")):
                top = j - 1 if (j < 2 or not _bare(lines[j - 2])) else j
    # Outlook's rule or "Original Message" line above the header block
    k = top - 1
    while k >= 0 and not _bare(lines[k]):
        k -= 1
    if k >= 0 and (RULE_LINE.match(_bare(lines[k])) or ORIGINAL_LINE.match(_bare(lines[k]))):
        top = k
    return top if top <= match else match


def _trailing_quote(lines: list[str]) -> int | None:
    """The first line of a final block of ">" lines (a quote without any header)."""
    start = None
    for i in range(len(lines) - 1, -1, -1):
        if _is_quoted(lines[i]):
            start = i
        elif lines[i].strip():
            break
    return start


def _find_cut(lines: list[str], sent) -> int | None:
    head = min(len(lines), HEAD_LINES)
    found = None
    for i in range(head):
        if _header_start(lines, i):
            found = i
            break
    mine = reply_sent.find(lines, sent)
    if mine is not None:
        start = _header_above(lines, mine)
        found = start if found is None else min(found, start)
    if found is None:
        found = _trailing_quote(lines)
    return found


def _interleaved(rest: list[str]) -> tuple[bool, list[str]]:
    """Whether the quoted part holds answers between ">" lines; and the unquoted lines after
    the quote (the reply of a bottom-poster)."""
    seen_quote, segments, current = False, [], []
    for line in rest:
        if _is_quoted(line):
            seen_quote = True
            if current:
                segments.append(current)
                current = []
        elif seen_quote and line.strip():
            current.append(line)
        elif current:
            current.append(line)
    if current:
        segments.append(current)
    after = [s for s in segments if "\n".join(s).strip()]
    return len(after) > 1, (after[0] if len(after) == 1 else [])


def _cut_quote(text: str, sent) -> tuple[str, str]:
    lines = text.split("\n")
    cut = _find_cut(lines, sent)
    if cut is None:
        return text.strip(), ""
    before, rest = "\n".join(lines[:cut]).strip(), lines[cut:]
    if FORWARDED.search("\n".join(rest[:3])):
        return text.strip(), ""
    several, after = _interleaved(rest)
    if several or (after and before and not _signature_only(after)):
        return text.strip(), ""  # answers between the quoted lines: keep every one of them
    if not before and after:  # bottom-posted: the reply is below the quote
        reply = "\n".join(after).strip()
        quoted = "\n".join(rest[:len(rest) - len(after)]).strip()
        return reply, quoted
    if not before:
        return text.strip(), ""
    return before, "\n".join(rest).strip()


def _signature_only(lines: list[str]) -> bool:
    split = _signature_split("\n".join(lines))
    return not split.visible


# --- layer 4: the signature -------------------------------------------------------------------

def _mobile_line(line: str) -> bool:
    line = line.strip()
    return 0 < len(line) <= 80 and len(line.split()) <= 10 and bool(SENT_FROM_LINE.search(line)) \
        and bool(DEVICE.search(line))


def _signature_split(text: str) -> Split:
    lines = text.strip().split("\n")
    for i, line in enumerate(lines):
        if SIGNATURE_DELIMITER.match(line.rstrip("\n")) and i:
            return Split(visible="\n".join(lines[:i]).strip(), signature="\n".join(lines[i:]).strip())
    tail = [i for i, line in enumerate(lines) if line.strip()][-3:]
    for i in tail:
        if _mobile_line(lines[i]):
            return Split(visible="\n".join(lines[:i]).strip(), signature="\n".join(lines[i:]).strip())
    return Split(visible=text.strip())
