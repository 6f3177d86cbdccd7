"""Who may see what. Agents are users with the tickets app's view permission (the seeded
"Agents" group has it); superusers always may.

Team scoping (Zendesk's "agents see their groups' tickets"): an agent without the
`tickets.view_all_teams` permission sees only tickets of teams they belong to, plus tickets with
no team. The seeded Agents group has that permission, so nobody is restricted until an admin
gives restricted agents a group without it."""

from django.db.models import Q


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


def can_see_event(user, event) -> bool:
    if event.ticket_id is None or sees_all_teams(user):
        return is_agent(user)
    return can_see_ticket(user, event.ticket_id)
