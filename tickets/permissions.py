"""Who may work the queue. Agents are users with the tickets app's view permission (the seeded
"Agents" group has it); superusers always may. Team scoping hooks in here as it grows."""


def is_agent(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm("tickets.view_ticket"))


def can_see_ticket(user, ticket_id) -> bool:
    return is_agent(user)


def can_see_event(user, event) -> bool:
    return is_agent(user)
