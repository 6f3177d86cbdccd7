"""Messages the helpdesk sends by itself (surveys, acknowledgements, rule messages) are marked
`meta["automated"] = <why>` on the outbound Message. One definition, so every app that measures
agent work (service levels, reports, routing) tells an agent's reply from an automatic one the
same way: an automatic message is never a first response, never answers a waiting customer and
never counts as an agent reply."""

from __future__ import annotations

AUTOMATED = "automated"  # the meta key

SURVEY = "survey"  # a satisfaction survey (the surveys app)
RULE = "rule"  # a canned reply an automation rule sent (the routing app)


def is_automated(message) -> bool:
    return bool((getattr(message, "meta", None) or {}).get(AUTOMATED))


def is_agent_reply(message) -> bool:
    """An outbound message an agent wrote: it has an author and is not automated."""
    return (message.direction == "outbound" and message.author_id is not None
            and not is_automated(message))
