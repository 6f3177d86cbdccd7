"""Automatic assignment: each team's waiting tickets (no assignee, oldest first) go to its
available agents, round-robin or least-loaded, never beyond an agent's capacity.

Safe under concurrency by one lock: fill() runs while its caller holds the RoutingState row
(engine.locked_state), so every process and worker assigns one after another and each reads
the loads the previous one committed. A ticket someone assigned meanwhile is re-checked
under its own row lock before it is given out."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils.translation import gettext as _

from routing import availability
from routing.models import AgentStatus, TeamRouting
from tickets import services
from tickets.models import Ticket
from tickets.people import display_name

log = logging.getLogger(__name__)

# Capacity counts what an agent is working on: new and open tickets. Pending ones wait on the
# customer and do not take an agent's attention until they reply (and reopen).
LOAD_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN)
WAITING_LIMIT = 500  # per team and pass; the next pass takes the rest


class Actor:
    """Who the timeline and the event log name for an automatic change (services.* take any
    object with get_full_name(): tickets.services.outbound.display_name)."""

    pk = None

    def __init__(self, label: str):
        self.label = label

    def get_full_name(self) -> str:
        return self.label

    def get_username(self) -> str:
        return self.label


def auto_assignment_actor() -> Actor:
    return Actor(_("Auto-assignment"))


@dataclass
class Loads:
    total: Counter
    per_channel: Counter  # (user id, channel) -> open tickets

    @classmethod
    def read(cls) -> Loads:
        total, per_channel = Counter(), Counter()
        rows = (Ticket.objects.filter(status__in=LOAD_STATUSES, assignee__isnull=False)
                .values_list("assignee_id", "channel").annotate(n=Count("*")).order_by())
        for user_id, channel, n in rows:
            total[user_id] += n
            per_channel[user_id, channel] += n
        return cls(total, per_channel)

    def add(self, user_id: int, channel: str) -> None:
        self.total[user_id] += 1
        self.per_channel[user_id, channel] += 1


def has_room(status: AgentStatus | None, loads: Loads, user_id: int, channel: str) -> bool:
    if status is None:
        return True
    if status.capacity is not None and loads.total[user_id] >= status.capacity:
        return False
    limit = (status.channel_capacity or {}).get(channel)
    return limit is None or loads.per_channel[user_id, channel] < int(limit)


def pick(routing: TeamRouting, agents: list[int], loads: Loads, statuses: dict, channel: str) -> int | None:
    """The agent for the next ticket of this team, or None when every available one is full.
    Round-robin walks the members in id order from the one after the last assignee;
    least-loaded takes the fewest open tickets, ties broken in that same round-robin order."""
    if not agents:
        return None
    last = routing.last_assignee_id
    start = next((i for i, a in enumerate(agents) if last is not None and a > last), 0)
    order = agents[start:] + agents[:start]
    free = [a for a in order if has_room(statuses.get(a), loads, a, channel)]
    if not free:
        return None
    if routing.mode == TeamRouting.Mode.LEAST_LOADED:
        return min(free, key=lambda a: (loads.total[a], order.index(a)))
    return free[0]


def release_offline() -> list[int]:
    """Unassign the new and open tickets that offline agents hold in teams whose option says
    so (TeamRouting.release_when_offline), with a line in each timeline; they wait for
    assignment again. Returns the ticket ids. Offline is what routing.availability computes:
    chose offline, or no console seen for the presence timeout (a closed or crashed browser)."""
    team_ids = list(TeamRouting.objects.filter(release_when_offline=True).values_list("team_id", flat=True))
    if not team_ids:
        return []
    held = Ticket.objects.filter(team_id__in=team_ids, status__in=LOAD_STATUSES, assignee__isnull=False)
    holders = sorted(set(held.values_list("assignee_id", flat=True)))
    gone = [u for u, s in availability.effective(holders).items() if s == availability.OFFLINE]
    if not gone:
        return []
    actor, released = auto_assignment_actor(), []
    for ticket in held.filter(assignee_id__in=gone).select_related("assignee").order_by("pk")[:WAITING_LIMIT]:
        current = Ticket.objects.select_for_update().filter(pk=ticket.pk, assignee_id=ticket.assignee_id).first()
        if current is None:
            continue  # reassigned meanwhile
        services.assign(current, assignee=None, actor=actor)
        services.note(current, author=None, text=_("Returned to the pool: %(name)s went offline.")
                      % {"name": display_name(ticket.assignee)})
        released.append(ticket.pk)
    if released:
        log.info("returned %d tickets of offline agents to the pool", len(released))
    return released


def fill() -> list[tuple[int, int]]:
    """Assign waiting tickets of every team with automatic assignment; returns (ticket, agent)
    pairs. The caller holds the routing lock (see the module docstring)."""
    release_offline()
    teams = list(TeamRouting.objects.exclude(mode=TeamRouting.Mode.OFF).select_related("team"))
    if not teams:
        return []
    members = {t.team_id: sorted(t.team.members.filter(is_active=True).values_list("pk", flat=True)) for t in teams}
    everyone = sorted({u for ids in members.values() for u in ids})
    online = {u for u, s in availability.effective(everyone).items() if s == availability.ONLINE}
    if not online:
        return []  # nobody there: tickets wait, and are assigned when someone comes online
    statuses = AgentStatus.objects.in_bulk([u for u in online], field_name="user_id")
    users = get_user_model().objects.in_bulk(online)
    loads = Loads.read()
    actor, done = auto_assignment_actor(), []
    for routing in teams:
        agents = [u for u in members[routing.team_id] if u in online]
        if not agents:
            continue
        waiting = (Ticket.objects.filter(team_id=routing.team_id, assignee__isnull=True, status__in=LOAD_STATUSES)
                   .order_by("created_at", "pk").only("pk", "channel")[:WAITING_LIMIT])
        for ticket in waiting:
            agent = pick(routing, agents, loads, statuses, ticket.channel)
            if agent is None:
                continue  # full for this channel; a ticket on another channel may still fit
            # Re-read under the ticket's lock: an agent may have taken it since the list was read.
            current = (Ticket.objects.select_for_update().filter(pk=ticket.pk, assignee__isnull=True,
                                                                  team_id=routing.team_id).first())
            if current is None:
                continue
            services.assign(current, assignee=users[agent], actor=actor)
            loads.add(agent, ticket.channel)
            routing.last_assignee_id = agent
            done.append((ticket.pk, agent))
        routing.save(update_fields=["last_assignee"])
    if done:
        log.info("auto-assigned %d tickets", len(done))
    return done
