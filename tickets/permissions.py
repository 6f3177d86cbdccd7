"""Moved to tickets.policy (the one authorisation module); kept so code written against the old
name, on branches merged later, keeps working. Import tickets.policy in new code."""

from tickets.policy import *  # noqa: F403
