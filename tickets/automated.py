"""Messages the helpdesk sends by itself (surveys, acknowledgements, rule messages) are marked
`meta["automated"] = <why>` on the outbound Message. One definition, so every app that measures
agent work (service levels, reports, routing) tells an agent's reply from an automatic one the
same way: an automatic message is never a first response, never answers a waiting customer and
never counts as an agent reply."""

from __future__ import annotations

AUTOMATED = "automated"  # the meta key

SURVEY = "survey"  # a satisfaction survey (the surveys app)
RULE = "rule"  # a canned reply an automation rule sent (the routing app)
OUT_OF_HOURS = "out_of_hours"  # an inbox's out-of-hours auto-reply (the routing app)

# RFC 3834: a message sent in answer to the customer's is "auto-replied"; others (a survey
# sent because a ticket was solved) are "auto-generated".
_REPLIES = frozenset({RULE, OUT_OF_HOURS})


def auto_submitted(message) -> str:
    """The Auto-Submitted header value for an automated outbound message, "" for any other."""
    reason = (getattr(message, "meta", None) or {}).get(AUTOMATED)
    if not reason:
        return ""
    return "auto-replied" if reason in _REPLIES else "auto-generated"


# An inbound message an inbound hook consumed and filed on a ticket (a survey answer): the
# customer wrote it, but it is not a request: it never starts a reply clock nor counts as a
# customer message in the metrics.
FILED_ASIDE = "filed_aside"


def is_filed_aside(meta) -> bool:
    return bool((meta or {}).get(FILED_ASIDE))


def is_automated(message) -> bool:
    return bool((getattr(message, "meta", None) or {}).get(AUTOMATED))


def is_agent_reply(message) -> bool:
    """An outbound message an agent wrote: it has an author and is not automated."""
    return (message.direction == "outbound" and message.author_id is not None
            and not is_automated(message))
