"""The authorisation policy: who may see and do what. One module, asked by the console, the REST
API, the websockets and the Django admin alike, so a rule changes in one place.

Roles:
* An **agent** is an active user with the tickets app's view permission (the seeded "Agents"
  group has it); superusers always are. Everyone else (anonymous, a chat visitor, a site user
  without that permission, an API token of such a user) sees nothing of the helpdesk.
* **Team scoping** (Zendesk's "agents see their groups' tickets"): an agent without the
  `tickets.view_all_teams` permission sees only tickets of teams they belong to, plus tickets
  with no team. The seeded Agents group has that permission, so nobody is restricted until an
  admin gives restricted agents a group without it.
* **Customers outside a restricted agent's teams**: such an agent may learn that a customer
  exists (opening a ticket for their address is refused *because* they exist), never their name,
  addresses, notes or conversations. A customer is *in scope* when one of their tickets is
  visible to the agent, or when they have no ticket at all (nobody's conversation yet) and were
  not merged away.
* **Changing a customer** (profile, merge, undoing a merge) needs `tickets.change_customer`;
  merging and undoing a merge also need every ticket of both customers to be visible: a merge
  moves whole histories, so it is only for someone who can see them whole.
"""

from __future__ import annotations

import time

from django.db.models import Exists, OuterRef, Q

CHANGE_CUSTOMER = "tickets.change_customer"


# -- roles --------------------------------------------------------------------------------------

def is_agent(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm("tickets.view_ticket"))


def sees_all_teams(user) -> bool:
    return user.is_superuser or user.has_perm("tickets.view_all_teams")


def team_ids(user) -> frozenset[int]:
    cached = getattr(user, "_helpdesk_team_ids", None)
    if cached is None:
        cached = frozenset(user.helpdesk_teams.values_list("pk", flat=True))
        user._helpdesk_team_ids = cached
    return cached


# -- tickets ------------------------------------------------------------------------------------

def visible_tickets(user, prefix: str = "") -> Q:
    """A filter for querysets of tickets (`prefix="ticket__"` for rows that point at one)."""
    if sees_all_teams(user):
        return Q()
    return Q(**{f"{prefix}team__isnull": True}) | Q(**{f"{prefix}team_id__in": team_ids(user)})


def can_see_ticket(user, ticket_id) -> bool:
    if not is_agent(user):
        return False
    if sees_all_teams(user):
        return True
    from tickets.models import Ticket

    return Ticket.objects.filter(visible_tickets(user), pk=ticket_id).exists()


def visible_ticket_ids(user, ticket_ids) -> set:
    """Of these ticket ids, the ones the user may see: one query, whatever the number."""
    ticket_ids = set(ticket_ids)
    if not is_agent(user):
        return set()
    if sees_all_teams(user):
        return ticket_ids
    from tickets.models import Ticket

    return set(Ticket.objects.filter(visible_tickets(user), pk__in=ticket_ids).values_list("pk", flat=True))


# -- customers ----------------------------------------------------------------------------------

def visible_customers(user, customer_field: str = "pk") -> Q:
    """A filter for querysets of customers (`customer_field="customer_id"` for rows that point at
    one): customers with a ticket the user may see, or with no ticket at all, unless that is
    because a merge moved their tickets away (their history is the target's now)."""
    if sees_all_teams(user):
        return Q()
    from tickets.models import Customer, Ticket

    theirs = Ticket.objects.filter(customer_id=OuterRef(customer_field))
    merged = Customer.objects.filter(pk=OuterRef(customer_field), merged_into__isnull=False)
    return Q(Exists(theirs.filter(visible_tickets(user)))) | (~Q(Exists(theirs)) & ~Q(Exists(merged)))


def can_see_customer(user, customer_id) -> bool:
    if not is_agent(user):
        return False
    if sees_all_teams(user):
        return True
    from tickets.models import Customer

    return Customer.objects.filter(visible_customers(user), pk=customer_id).exists()


def sees_whole_customer(user, *customer_ids) -> bool:
    """Every ticket of these customers is visible to the user."""
    if not is_agent(user):
        return False
    if sees_all_teams(user):
        return True
    from tickets.models import Ticket

    return not Ticket.objects.filter(customer_id__in=customer_ids).exclude(visible_tickets(user)).exists()


def can_change_customers(user) -> bool:
    """Whether the user may change customers at all (the console shows the forms)."""
    return is_agent(user) and user.has_perm(CHANGE_CUSTOMER)


def can_change_customer(user, customer_id) -> bool:
    """Edit a customer's profile (name, organisation, notes)."""
    return can_change_customers(user) and can_see_customer(user, customer_id)


def can_merge_customers(user, source_id, target_id) -> bool:
    return can_change_customers(user) and sees_whole_customer(user, source_id, target_id)


def can_undo_merge(user, merge) -> bool:
    """Undoing moves back the tickets the merge moved: the user must see them, and both customers."""
    if not can_merge_customers(user, merge.source_id, merge.target_id):
        return False
    moved = set(merge.moved.get("tickets") or [])
    return visible_ticket_ids(user, moved) == moved


def can_be_assigned(assignee, team_id) -> bool:
    """An assignee must be an agent who can see the ticket once it is theirs (in its team, or
    seeing every team), as Zendesk requires the assignee to be in the ticket's group."""
    if not is_agent(assignee):
        return False
    return team_id is None or sees_all_teams(assignee) or team_id in team_ids(assignee)


def can_open_ticket_for(user, customer_id) -> bool:
    """Start a conversation with an existing customer (console or API)."""
    return can_see_customer(user, customer_id)


# -- the event stream ---------------------------------------------------------------------------

def can_see_event(user, event) -> bool:
    """Whether an agent's console socket (or replay) may carry this event."""
    if not is_agent(user):
        return False
    if event.ticket_id is not None:
        return can_see_ticket(user, event.ticket_id)
    if sees_all_teams(user):
        return True
    # Customer-wide events (merge, unmerge) name tickets in their data: only for agents who see
    # the customer and every ticket named.
    if event.customer_id is not None and not can_see_customer(user, event.customer_id):
        return False
    named = set((event.data or {}).get("tickets") or [])
    return visible_ticket_ids(user, named) == named


def can_see_carried_event(user, ticket_id, team_id) -> bool | None:
    """can_see_event() for an event a doorbell carries with its ticket's team, decided in memory
    from the user's cached roles and teams (see load_roles()); None when it needs the database
    (customer-wide events for an agent restricted to teams)."""
    agent, all_teams = getattr(user, "_helpdesk_roles", None) or (is_agent(user), sees_all_teams(user))
    if not agent:
        return False
    if all_teams:
        return True
    if ticket_id is None:
        return None
    return team_id is None or team_id in team_ids(user)


def load_roles(user):
    """Read what the policy decides from (permissions, teams) into the user object, so a
    long-lived socket can ask can_see_carried_event() without a query; returns the user."""
    # has_perm() walks the authentication backends on every call: a thousand sockets asking it
    # twice per event add up, so the two answers the event stream needs are kept too.
    user._helpdesk_roles = (is_agent(user), is_agent(user) and sees_all_teams(user))
    if user._helpdesk_roles[0] and not user._helpdesk_roles[1]:
        team_ids(user)
    # Django caches a user's permissions as sets of strings, ~9 KB per copy: a thousand console
    # sockets of a few dozen agents share one frozen copy per distinct set instead.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        perms = getattr(user, cache, None)
        if perms is not None:
            frozen = frozenset(perms)
            setattr(user, cache, _shared_perms.setdefault(frozen, frozen))
    return user


_shared_perms: dict[frozenset, frozenset] = {}


class AgentRoles:
    """One loaded copy of each agent (permissions and teams, see load_roles()) for all of its
    long-lived sockets, re-read when older than `max_age` seconds: a thousand console tabs of
    two hundred agents hold two hundred users, and a refresh costs one query per agent, not
    one per socket."""

    def __init__(self):
        self._users: dict[int, tuple[float, object]] = {}

    def cached(self, user_id: int, max_age: float):
        """The agent's loaded user if fresh enough, else None. No query: safe on the event loop."""
        entry = self._users.get(user_id)
        if entry is not None and time.monotonic() - entry[0] <= max_age:
            return entry[1]
        return None

    def share(self, user, max_age: float):
        """A socket has just authenticated `user` (a session's user, possibly lazy): returns the
        shared loaded copy of that account, this one (loaded) when there is none fresh."""
        user = getattr(user, "_wrapped", user)
        cached = self.cached(user.pk, max_age)
        if cached is not None and (cached.get_username(), cached.password) == (user.get_username(), user.password):
            return cached
        self._users[user.pk] = (time.monotonic(), load_roles(user))
        return user

    def get(self, user_id: int, max_age: float):
        """The agent's loaded user, read again when stale (a deleted user sees nothing)."""
        user = self.cached(user_id, max_age)
        if user is None:
            from django.contrib.auth import get_user_model
            from django.contrib.auth.models import AnonymousUser

            user = load_roles(get_user_model().objects.filter(pk=user_id).first() or AnonymousUser())
            self._users[user_id] = (time.monotonic(), user)
        return user


agent_roles = AgentRoles()


# -- the Django admin ---------------------------------------------------------------------------

def admin_rows(user, *, ticket: str | None = None, customer: str | None = None) -> Q | None:
    """What of a model a staff user may read in the admin. Give the path to the row's ticket
    (`"pk"` for tickets themselves, `"message__ticket"`, ...) or to its customer; with neither,
    the rows cannot be scoped (raw payloads, webhook bodies...) and only users who see every
    team may read them: None means none. Nobody logged in (the admin's own login page lists
    the apps too) reads nothing."""
    if not user.is_authenticated:
        return None
    if user.is_superuser or sees_all_teams(user):
        return Q()
    if ticket is not None:
        prefix = "" if ticket == "pk" else f"{ticket}__"
        return visible_tickets(user, prefix=prefix)
    if customer is not None:
        return visible_customers(user, customer_field=customer)
    return None
