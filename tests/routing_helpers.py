"""Helpers for the routing tests: agents with an open console, teams with a routing mode."""

import itertools

import pytest
from django.utils import timezone

from routing.models import AgentStatus, TeamRouting
from tickets.models import AgentPresence, Team

_connections = itertools.count(1)


def console_open(user, status="online", **capacity):
    """The agent has a console open (an AgentPresence row, as the websocket writes) and chose
    `status`; capacity=..., channel_capacity={...} as keyword arguments."""
    AgentPresence.objects.create(user=user, connection=f"test-{next(_connections)}", last_seen=timezone.now())
    AgentStatus.objects.update_or_create(user=user, defaults={"status": status, "last_active_at": timezone.now(),
                                                              **capacity})
    return user


def routed_team(name, mode, *members):
    team = Team.objects.create(name=name)
    team.members.add(*members)
    TeamRouting.objects.create(team=team, mode=mode)
    return team


@pytest.fixture(autouse=True)
def routing_cursor(db):
    """Routing starts reading the log here (as it does when it is first switched on)."""
    from django.db import transaction

    from routing.engine import locked_state
    from routing.sinks import forget_configuration

    forget_configuration()  # each test configures routing its own way
    with transaction.atomic():
        locked_state()
