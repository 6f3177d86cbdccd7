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
from functools import lru_cache

from channels_email import reply_html, reply_sent
from channels_email.mime import html_to_text
from channels_email.reply_patterns import (
    ADDRESS,
    DATE_ADDRESS_LINE,
    DEVICE,
    FIELD_LINE,
    FORWARDED,
    FROM_LINE,
    HAS_DIGIT,
    INLINE_FIELD,
    ORIGINAL_LINE,
    RULE_LINE,
    SENT_FROM_LINE,
    SEPARATOR_WROTE,
    SHARED_LINE,
    SHARED_OPENING,
    SIGNATURE_DELIMITER,
    WROTE_ALONE,
    WROTE_LINE,
)

# Headers and separators are searched in the head only: the reply is at the top, and a 250 kB
# body must not cost a regex pass per line (a long message without a quote is all reply).
HEAD_LINES = 400
_QUOTE_PREFIX = re.compile(r"^(?:[ \t]*>)+[ \t]?")
_MAX_ATTRIBUTION = 320
_MAX_LINE = 1000  # longer lines are prose, never a header: no pattern runs on them


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
    visible, quoted, below = _cut_quote(text, sent)
    quoted = "\n\n".join(part for part in (quoted, quoted_html) if part.strip())
    split = _signature_split(visible)
    if not split.visible:  # only a signature and a quote: show it all rather than nothing
        return Split(visible=text.strip())
    signature = "\n\n".join(part for part in (split.signature, below) if part)
    return Split(visible=split.visible, signature=signature, quoted=quoted)


def visible_reply(text: str, html: str = "", sent=()) -> str:
    return split_reply(text, html, sent).visible


# --- layers 2 and 3: where does the quote start? ----------------------------------------------

@lru_cache(maxsize=4096)
def _bare(line: str) -> str:
    # Cached: each line is looked at by several patterns, and its neighbours' checks.
    return _QUOTE_PREFIX.sub("", line).strip()


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _glue(upper: str, lower: str) -> str:
    # "Jane <" + "jane@x>:" was one line before the client wrapped it.
    return upper + lower if upper.endswith("<") or lower.startswith(">") else f"{upper} {lower}"


def _is_attribution(joined: str) -> bool:
    """ "<date>, <name> wrote:" in some language; or, without a verb we know (Gmail's Russian
    and Hungarian attributions have none), a line ending in ":" with a date and an address."""
    if len(joined) > _MAX_ATTRIBUTION or joined[-1] not in ":：":
        return False
    digit = bool(HAS_DIGIT.search(joined))
    if not (digit or "@" in joined):
        return False
    return bool(WROTE_LINE.search(joined[-60:])) or (digit and bool(ADDRESS.search(joined)))


def _attribution_start(lines: list[str], end: int) -> int | None:
    """If line `end` ends an attribution (possibly wrapped over up to three lines), the index
    of its first line. The shortest window that reads as an attribution wins, then it grows
    upwards only over lines that carry part of the date, so the reply's last line is never
    taken for the start of the header below it."""
    last = _bare(lines[end])
    if not last or last[-1] not in ":：" or len(last) > _MAX_ATTRIBUTION:
        return None
    alone = _wrote_alone(lines, end, last)
    if alone is not None:
        return alone
    joined, start = last, None
    for k in range(3):
        if k:
            above = _bare(lines[end - k]) if end - k >= 0 else ""
            if not above or above[-1] in ".!?":
                return None
            joined = _glue(above, joined)
        if _is_attribution(joined):
            start = end - k
            break
    if start is None:
        return None
    while start > 0 and end - start < 3:
        above = _bare(lines[start - 1])
        if not above or above[-1] in ".!?" or not HAS_DIGIT.search(above) or not _is_attribution(
                _glue(above, joined)):
            break
        joined, start = _glue(above, joined), start - 1
    return start


def _wrote_alone(lines: list[str], end: int, last: str) -> int | None:
    """ "wrote:" alone on a line (Polymail and friends wrap the name and address onto lines of
    their own, blank lines between): the attribution starts at the nearest line above with the
    date that opens a paragraph."""
    if not WROTE_ALONE.match(last):
        return None
    for k in range(end - 1, max(end - 6, -1), -1):
        bare = _bare(lines[k])
        if bare and HAS_DIGIT.search(bare) and (k == 0 or not _bare(lines[k - 1])):
            return k
    return None


def _outlook_block(lines: list[str], i: int) -> bool:
    """An Outlook-style header block starts at line i: header fields (From, Sent/Date, To, Cc,
    Subject, in any of our languages, any order), one of them "From" (or a dated first field),
    possibly with wrapped values and blank lines between them (HTML turned into text);
    or the whole block flattened onto one line."""
    first = _bare(lines[i])
    if not FIELD_LINE.match(first):
        return False
    if len(INLINE_FIELD.findall(first)) >= 3 and any(FROM_LINE.match(m.group(0).strip() + " ")
                                                     for m in INLINE_FIELD.finditer(first)):
        return True
    fields, has_from, other, previous = 0, False, 0, "field"
    for line in lines[i:i + 14]:
        bare = _bare(line)
        if not bare:
            if previous == "blank":
                break
            previous = "blank"
        elif FIELD_LINE.match(bare):
            fields += 1
            has_from = has_from or bool(FROM_LINE.match(bare))
            previous = "field"
        elif previous != "blank" and other < 2:  # a wrapped value ("Sent: Friday 12:06\nPM")
            other += 1
            previous = "other"
        else:
            break
    return fields >= 3 and has_from or fields >= 2 and (has_from or bool(HAS_DIGIT.search(first)))


def _header_start(lines: list[str], i: int) -> bool:
    """Line i starts a reply header or separator (not an attribution: see _attribution_start)."""
    bare = _bare(lines[i])
    if not bare or len(bare) > _MAX_LINE:
        return False
    if ORIGINAL_LINE.match(bare) or SEPARATOR_WROTE.match(bare) or DATE_ADDRESS_LINE.match(bare):
        return True
    if RULE_LINE.match(bare):
        following = [j for j in range(i + 1, min(i + 4, len(lines))) if _bare(lines[j])]
        return bool(following) and _outlook_block(lines, following[0])
    return ":" in bare[:40] and _outlook_block(lines, i)


def _first_header(lines: list[str], limit: int) -> int | None:
    for i in range(min(len(lines), limit)):
        if _header_start(lines, i):
            return i
        start = _attribution_start(lines, i)
        if start is not None:
            return start
    return None


def _header_above(lines: list[str], match: int) -> int:
    """Where the quote of our text starting at line `match` begins: the reply header (any
    language, any shape) directly above it, when there is one."""
    j = match - 1
    while j >= 0 and not _bare(lines[j]):
        j -= 1
    top = j + 1
    for k in range(j, max(j - 14, -1), -1):
        if not _bare(lines[k]) and not (k and _bare(lines[k - 1])):
            break
        if _header_start(lines, k):
            top = k
        start = _attribution_start(lines, k)
        if start is not None:
            top = min(top, start)
    if top == j + 1 and j >= 0:
        # No known pattern: an attribution in a language we do not know still ends with ":"
        # right above our text.
        bare = _bare(lines[j])
        if bare.endswith((":", "：")) and len(bare) <= _MAX_ATTRIBUTION:
            top = j
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
    found = _first_header(lines, HEAD_LINES)
    mine = reply_sent.find(lines, sent)
    if mine is not None:
        start = _header_above(lines, mine)
        found = start if found is None else min(found, start)
    if found is None:
        found = _trailing_quote(lines)
    return found


def _unshare(lines: list[str]) -> list[str]:
    """Split "reply--- On <date>, <person> wrote:" into the reply and the header line."""
    out = []
    for line in lines:
        if _is_quoted(line) or not line.rstrip().endswith((":", "：")) or len(line) > _MAX_ATTRIBUTION * 2:
            out.append(line)
            continue
        shared = (SHARED_LINE.match(line) if "---" in line else None) or SHARED_OPENING.match(line)
        if shared and _is_attribution(shared.group("header")):
            out += [shared.group("reply"), shared.group("header")]
        else:
            out.append(line)
    return out


def _segments_after_quote(rest: list[str]) -> list[list[str]]:
    """The unquoted passages after the first ">" line of `rest` (answers between quoted lines,
    or the reply of a bottom-poster). A line a client broke out of a quoted line (a wrapped
    link: a few words directly between two quoted lines) belongs to the quote."""
    segments, current, seen_quote = [], [], False
    for n, line in enumerate(rest):
        if _is_quoted(line):
            bare = _bare(line)
            # A quoted piece of the header itself ("> wrote:") does not start a ">" quote.
            seen_quote = seen_quote or not (WROTE_ALONE.match(bare) or (bare and _is_attribution(bare)))
            if current:
                segments.append(current)
                current = []
            continue
        if not seen_quote:
            continue
        sandwiched = (n and _is_quoted(rest[n - 1]) and n + 1 < len(rest) and _is_quoted(rest[n + 1])
                      and len(line.split()) <= 4)
        if current or (line.strip() and not sandwiched):
            current.append(line)
    if current:
        segments.append(current)
    return [s for s in segments if "\n".join(s).strip()]


def _sign_off(lines: list[str]) -> bool:
    """A short closing below the quote ("Regards, Roman"): kept with the reply above."""
    text = [line.strip() for line in lines if line.strip()]
    return len(text) <= 2 and all(len(line) <= 40 and "?" not in line for line in text)


def _cut_quote(text: str, sent) -> tuple[str, str, str]:
    """(reply, quote, signature found below the quote)."""
    lines = _unshare(text.split("\n"))
    cut = _find_cut(lines, sent)
    if cut is None:
        return text.strip(), "", ""
    before, rest = "\n".join(lines[:cut]).strip(), lines[cut:]
    if not before and not _is_quoted(lines[cut]) and _outlook_block(lines, cut):
        # The mail's own header block pasted at the top (a client's "reply with header", an
        # Outlook forward without a comment): the message is what follows it, up to the next
        # quote; the header block is folded away with the quote.
        end = next((n for n in range(cut + 1, len(lines)) if not _bare(lines[n])), len(lines))
        reply, quoted, below = _cut_quote("\n".join(lines[end:]), sent)
        if reply:
            header = "\n".join(lines[cut:end]).strip()
            return reply, f"{header}\n\n{quoted}".strip(), below
    above = [line for line in lines[max(0, cut - 3):cut] if line.strip()]
    if FORWARDED.search("\n".join(above[-2:] + rest[:3])):
        return text.strip(), "", ""  # a forward is what the customer wants us to read
    after = _segments_after_quote(rest)
    if not after:
        return (before, "\n".join(rest).strip(), "") if before else (text.strip(), "", "")
    tail = "\n".join(after[-1]).strip()
    quote_part = "\n".join(rest[:len(rest) - len(after[-1])]).strip() if len(after) == 1 else ""
    if len(after) == 1 and not before:  # bottom-posted: the reply is below the quote
        return tail, quote_part, ""
    if len(after) == 1 and _signature_split(tail).visible == "":
        return before, quote_part, tail  # their signature below the quote
    if len(after) == 1 and _sign_off(after[0]):
        return f"{before}\n\n{tail}", quote_part, ""
    return text.strip(), "", ""  # answers between the quoted lines: keep every one of them


# --- layer 4: the signature -------------------------------------------------------------------

def _mobile_line(line: str) -> bool:
    line = line.strip()
    return 0 < len(line) <= 80 and len(line.split()) <= 10 and bool(SENT_FROM_LINE.search(line)) \
        and bool(DEVICE.search(line))


def _signature_split(text: str) -> Split:
    lines = text.strip().split("\n")
    for i, line in enumerate(lines):
        if SIGNATURE_DELIMITER.match(line.rstrip("\n")):
            return Split(visible="\n".join(lines[:i]).strip(), signature="\n".join(lines[i:]).strip())
    tail = [i for i, line in enumerate(lines) if line.strip()][-3:]
    for i in tail:
        if _mobile_line(lines[i]):
            return Split(visible="\n".join(lines[:i]).strip(), signature="\n".join(lines[i:]).strip())
    return Split(visible=text.strip())
