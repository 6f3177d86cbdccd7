"""Agent presence: who has a console open (and where). Heartbeats keep a connection fresh;
a connection not seen for PRESENCE_TIMEOUT is gone (a crashed process cannot say goodbye)."""

from datetime import timedelta

from django.utils import timezone

from tickets.models import AgentPresence
from tickets.people import display_name

PRESENCE_TIMEOUT = timedelta(seconds=90)
TYPING_TIMEOUT = timedelta(seconds=6)  # the console re-sends "typing" every few keystrokes


def join(user, connection: str, ticket_id: int | None = None) -> None:
    AgentPresence.objects.update_or_create(
        connection=connection, defaults={"user": user, "ticket_id": ticket_id, "last_seen": timezone.now()}
    )


def heartbeat(connection: str, ticket_id: int | None = None, typing: bool = False) -> None:
    now = timezone.now()
    changes = {"last_seen": now}
    if ticket_id is not None:
        changes["ticket_id"] = ticket_id
    if typing:
        changes["typing_until"] = now + TYPING_TIMEOUT
    AgentPresence.objects.filter(connection=connection).update(**changes)


def viewing(connection: str, ticket_id: int | None) -> int | None:
    """This connection now shows `ticket_id` (None: a page that is not a ticket). Returns the
    ticket it showed before, so that ticket's viewers can be told it left."""
    row = AgentPresence.objects.filter(connection=connection).values_list("ticket_id", flat=True).first()
    AgentPresence.objects.filter(connection=connection).update(
        ticket_id=ticket_id, typing_until=None, last_seen=timezone.now())
    return row


def typing(connection: str, active: bool = True) -> None:
    now = timezone.now()
    AgentPresence.objects.filter(connection=connection).update(
        typing_until=now + TYPING_TIMEOUT if active else None, last_seen=now)


def leave(connection: str) -> int | None:
    """The connection closed; returns the ticket it was on (its viewers must hear of it)."""
    ticket_id = AgentPresence.objects.filter(connection=connection).values_list("ticket_id", flat=True).first()
    AgentPresence.objects.filter(connection=connection).delete()
    return ticket_id


def _fresh():
    return AgentPresence.objects.filter(last_seen__gte=timezone.now() - PRESENCE_TIMEOUT)


def agents_online() -> int:
    """How many distinct agents have a live console (the chat widget's 'someone is here')."""
    return _fresh().values("user").distinct().count()


def viewers(ticket_id: int) -> list[dict]:
    now = timezone.now()
    rows = _fresh().filter(ticket_id=ticket_id).select_related("user").order_by("user_id", "pk")
    seen = {}
    for row in rows:
        entry = seen.setdefault(row.user_id, {"user": row.user_id, "name": display_name(row.user),
                                              "typing": False})
        entry["typing"] = entry["typing"] or bool(row.typing_until and row.typing_until > now)
    return list(seen.values())
