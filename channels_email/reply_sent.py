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

from django.db.models import Q

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


_STATEMENTS: dict[tuple[str, str], tuple[str, tuple]] = {}
_TICKET, _ADDRESS = -987654321, "\x00sentinel@invalid"  # stand-ins marking where the value goes


def _statement(by: str) -> tuple[str, tuple]:
    """The SQL of the lookup, compiled by the ORM once per process: compiling costs several
    times more than running it on this hot path (see tickets.plainsql)."""
    from django.db import connection

    from tickets.models import Message

    key = (by, connection.vendor)
    if key not in _STATEMENTS:
        outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND).exclude(text="")
        if by == "ticket":
            query = outbound.filter(ticket_id=_TICKET)
        else:
            query = outbound.filter(Q(customer__identities__channel="email") & Q(customer__identities__address=_ADDRESS))
        _STATEMENTS[key] = query.order_by("-created_at").values_list("text").query.sql_with_params()
    sql, params = _STATEMENTS[key]
    return sql + f" LIMIT {HISTORY}" if " LIMIT " not in sql.upper() else sql, params


def sent_texts(*, ticket_id: int | None, sender: str) -> list[str]:
    """What we sent that this mail may quote: the latest outbound messages of its ticket, or
    without a ticket, the latest ones to this address. One indexed query (message_ticket_idx,
    or the sender's identity and the customer history index)."""
    from django.db import connection

    sql, params = _statement("ticket" if ticket_id else "address")
    values = tuple(ticket_id if p == _TICKET else sender if p == _ADDRESS else p for p in params)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return [row[0] for row in cursor.fetchmany(HISTORY)]
