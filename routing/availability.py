"""Agents' availability: what they chose (online / away / offline, routing.AgentStatus) met with
whether a console of theirs is open (tickets.AgentPresence, one row per live websocket) and
whether they have touched it lately.

Nothing is written when a console closes or an agent goes idle: the effective status is
computed when it is read, so a crashed browser or process can never leave someone "online".
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from routing.models import AgentStatus
from tickets.models import AgentPresence
from tickets.presence import PRESENCE_TIMEOUT

ONLINE, AWAY, OFFLINE = AgentStatus.Status.ONLINE, AgentStatus.Status.AWAY, AgentStatus.Status.OFFLINE


def away_after() -> timedelta | None:
    seconds = getattr(settings, "HELPDESK_ROUTING_AWAY_AFTER_SECONDS", 900)
    return timedelta(seconds=seconds) if seconds else None


def effective(user_ids=None, now=None) -> dict[int, str]:
    """{user id: online | away | offline} for these users (all with a status row or a console
    when None). Two queries, whatever the number of agents."""
    now = now or timezone.now()
    consoles = AgentPresence.objects.filter(last_seen__gte=now - PRESENCE_TIMEOUT)
    rows = AgentStatus.objects.all()
    if user_ids is not None:
        consoles, rows = consoles.filter(user_id__in=user_ids), rows.filter(user_id__in=user_ids)
    connected = set(consoles.values_list("user_id", flat=True))
    chosen = {r.user_id: r for r in rows}
    idle = away_after()
    result = {}
    for user_id in (set(user_ids) if user_ids is not None else connected | set(chosen)):
        row = chosen.get(user_id)
        if user_id not in connected or (row and row.status == OFFLINE):
            result[user_id] = OFFLINE
        elif row and (row.status == AWAY or (idle and row.last_active_at and now - row.last_active_at > idle)):
            result[user_id] = AWAY
        else:
            result[user_id] = ONLINE
    return result


def status_of(user) -> str:
    return effective([user.pk])[user.pk]


def set_status(user, status: str) -> str:
    """The agent's own choice in the console header. Going online may let waiting tickets
    be assigned (to them or to others freed by the change), so a routing pass is asked for."""
    if status not in AgentStatus.Status.values:
        raise ValueError(f"unknown availability {status!r}")
    AgentStatus.objects.update_or_create(user=user, defaults={"status": status, "last_active_at": timezone.now()})
    now_status = status_of(user)
    if now_status == ONLINE:
        from routing.engine import request_pass

        request_pass()
    return now_status


def touch(user, active: bool) -> str:
    """The console's heartbeat: `active` when the agent used it since the last one (keys,
    clicks). Returns the effective status; asks for a routing pass when it became online."""
    before = status_of(user)
    if active:
        updated = AgentStatus.objects.filter(user=user).update(last_active_at=timezone.now())
        if not updated:
            AgentStatus.objects.get_or_create(user=user, defaults={"last_active_at": timezone.now()})
    after = status_of(user)
    if after == ONLINE and before != ONLINE:
        from routing.engine import request_pass

        request_pass()
    return after


# Live chat asks on every visitor ping (LIVECHAT_ONLINE_CHECK): the answer is kept a few
# seconds per inbox and process, so a thousand visitors cost a query every few seconds.
CHAT_ONLINE_SECONDS = 5.0
_chat_online: dict[str, tuple[float, bool]] = {}


def chat_online(inbox_key: str) -> bool:
    """Live chat's "we're online": some agent of the chat inbox's team is online (routing's
    Inbox "chat:<key>", else the chat default "chat"); with no team, any agent online."""
    now = time.monotonic()
    cached = _chat_online.get(inbox_key)
    if cached is not None and now - cached[0] < CHAT_ONLINE_SECONDS:
        return cached[1]
    from routing.models import Inbox

    inboxes = {i.key: i for i in Inbox.objects.filter(key__in=[f"chat:{inbox_key}", "chat"]).select_related("team")}
    inbox = inboxes.get(f"chat:{inbox_key}") or inboxes.get("chat")
    if inbox is not None and inbox.team is not None:
        members = list(inbox.team.members.filter(is_active=True).values_list("pk", flat=True))
        answer = ONLINE in effective(members).values()
    else:
        answer = ONLINE in effective().values()
    _chat_online[inbox_key] = (now, answer)
    return answer


def forget_chat_online() -> None:
    _chat_online.clear()
