"""Layer 2 of the reply split: finding our own sent text inside the reply.

We know exactly what we sent. Wherever the customer's client put it (after a header in any
language, ">"-prefixed, re-wrapped at 72 columns, flattened from our HTML), its words are
still there in order. So both texts are reduced to their words (lower case, no punctuation, no
quote marks, no line breaks) and the opening words of what we sent are looked for in the
reply: no language, date format or client layout is involved.

`sent_texts` reads what we sent with one indexed query (message_ticket_idx, or the customer
history index through the sender's identity).
"""

from __future__ import annotations

import bisect
import re

_WORD = re.compile(r"\w+", re.U)
# Enough words to be ours beyond doubt ("Thanks!" is not a quote of "Thanks!"), few enough that
# a client which re-flows or trims our text far into it still matches.
PROBE_WORDS = 12
MIN_WORDS = 4
HISTORY = 3  # the last few messages we sent: the customer may answer an older one


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def find(lines: list[str], sent) -> int | None:
    """The index of the line where the earliest of `sent` starts inside `lines`, or None."""
    if not sent:
        return None
    starts, tokens, line_of = [], [], []
    position = 0
    for number, line in enumerate(lines):
        for word in _words(line):
            starts.append(position)
            tokens.append(word)
            line_of.append(number)
            position += len(word) + 1
    haystack = " ".join(tokens)
    best = None
    for text in sent:
        words = _words(text or "")[:PROBE_WORDS]
        if len(words) < MIN_WORDS:
            continue
        needle = " ".join(words)
        at = haystack.find(needle)
        while at > 0 and haystack[at - 1] != " ":  # whole words only
            at = haystack.find(needle, at + 1)
        if at < 0:
            continue
        index = bisect.bisect_left(starts, at)
        if index == 0:
            continue  # the reply *starts* with our words: the customer pasted them, it is theirs
        number = line_of[index]
        best = number if best is None else min(best, number)
    return best


def sent_texts(*, ticket_id: int | None, sender: str) -> list[str]:
    """What we sent that this mail may quote: the latest outbound messages of its ticket, or
    without a ticket, the latest ones to this address. Indexed reads through tickets.sql
    (message_ticket_idx, or the sender's identity and the customer history index): compiling
    an ORM query costs several times more than running it on this hot path."""
    from tickets import sql
    from tickets.models import Message

    if not ticket_id:
        return sql.sent_texts_to("email", sender, HISTORY)
    rows = sql.values(Message, ("text",), order_by="-created_at", limit=HISTORY, ticket_id=ticket_id,
                      direction=Message.Direction.OUTBOUND, text__ne="")
    return [row[0] for row in rows]
