"""The console's reads, each a fixed number of SQL queries whatever the size of the tables
(the queue and ticket pages assert this in tests)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q
from django.utils.translation import gettext_lazy as _

from tickets.models import Attachment, CannedResponse, CustomerMerge, Message, Team, Ticket

ACTIVE = list(Ticket.ACTIVE_STATUSES)
QUEUE_SIZE = 100
HISTORY_SIZE = 300  # newest messages on a ticket page; "show all" lifts it

# name -> label; "channel:<medium>" and "team:<id>" views are added from the counts.
FIXED_VIEWS = {
    "unassigned": _("Unassigned"),
    "mine": _("Mine"),
    "open": _("All open"),
    "pending": _("Pending"),
    "solved": _("Solved"),
}


@dataclass
class QueueView:
    key: str
    label: str
    count: int


def queue_filter(view: str, user) -> Q | None:
    """The WHERE of a view, or None for an unknown view. Active views keep the literal
    `status IN (new, open, pending)` so SQLite uses the partial waiting-order index."""
    active = Q(status__in=ACTIVE)
    if view == "open":
        return active
    if view == "unassigned":
        return active & Q(assignee__isnull=True)
    if view == "mine":
        return active & Q(assignee=user)
    if view == "pending":
        return Q(status__in=ACTIVE) & Q(status=Ticket.Status.PENDING)
    if view == "solved":
        return Q(status=Ticket.Status.SOLVED)
    kind, _sep, value = view.partition(":")
    if kind == "channel" and value:
        return active & Q(channel=value)
    if kind == "team" and value.isdigit():
        return active & Q(team_id=int(value))
    return None


def queue_tickets(view: str, user, limit: int = QUEUE_SIZE):
    """Longest-waiting customer first; tickets nobody waits on (answered) after, most recently
    touched first. Solved tickets: most recently solved first."""
    where = queue_filter(view, user)
    if where is None:
        where, view = queue_filter("open", user), "open"
    query = Ticket.objects.filter(where).select_related("customer", "assignee", "team")
    if view == "solved":
        query = query.order_by("-updated_at")
    else:
        query = query.order_by(F("waiting_since").asc(nulls_last=True), "updated_at")
    return query.prefetch_related("tags")[:limit]


def queue_views(user) -> list[QueueView]:
    """Every view with its count, from one GROUP BY over the non-closed tickets."""
    rows = (Ticket.objects.filter(status__in=[*ACTIVE, Ticket.Status.SOLVED])
            .values("status", "channel", "team_id", "team__name", "assignee_id")
            .annotate(n=Count("id")).order_by())
    counts: Counter = Counter()
    team_names = {}
    for row in rows:
        n, status = row["n"], row["status"]
        if status == Ticket.Status.SOLVED:
            counts["solved"] += n
            continue
        counts["open"] += n
        counts[f"channel:{row['channel']}"] += n
        if status == Ticket.Status.PENDING:
            counts["pending"] += n
        if row["assignee_id"] is None:
            counts["unassigned"] += n
        elif row["assignee_id"] == user.pk:
            counts["mine"] += n
        if row["team_id"]:
            counts[f"team:{row['team_id']}"] += n
            team_names[row["team_id"]] = row["team__name"]
    views = [QueueView(key, str(label), counts[key]) for key, label in FIXED_VIEWS.items()]
    views += [QueueView(key, key.partition(":")[2], n) for key, n in sorted(counts.items())
              if key.startswith("channel:")]
    views += [QueueView(f"team:{pk}", name, counts[f"team:{pk}"]) for pk, name in sorted(team_names.items(),
                                                                                      key=lambda i: i[1])]
    return views


@dataclass
class Block:
    """A run of consecutive messages of one ticket in the customer's timeline."""

    ticket: Ticket
    messages: list
    current: bool


def history(ticket: Ticket, show_all: bool = False) -> tuple[list[Block], bool, Message | None]:
    """The customer's messages across every ticket and channel, oldest first, in runs per
    ticket; whether older ones were left out; and their last inbound message."""
    query = (Message.objects.filter(customer_id=ticket.customer_id)
             .select_related("ticket", "author")
             .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
             .order_by("-created_at", "-pk"))
    if not show_all:
        rows = list(query[: HISTORY_SIZE + 1])
        hidden = len(rows) > HISTORY_SIZE
        rows = rows[:HISTORY_SIZE]
    else:
        rows, hidden = list(query), False
    rows.reverse()
    blocks: list[Block] = []
    for message in rows:
        if blocks and blocks[-1].ticket.pk == message.ticket_id:
            blocks[-1].messages.append(message)
        else:
            blocks.append(Block(message.ticket, [message], message.ticket_id == ticket.pk))
    last_inbound = next((m for m in reversed(rows) if m.direction == Message.Direction.INBOUND), None)
    return blocks, hidden, last_inbound


def other_tickets(ticket: Ticket):
    return list(Ticket.objects.filter(customer_id=ticket.customer_id).exclude(pk=ticket.pk)
                .exclude(status=Ticket.Status.CLOSED).order_by("-updated_at")[:20])


def agents():
    return list(get_user_model().objects.filter(is_active=True)
                .filter(Q(is_superuser=True) | Q(groups__permissions__codename="view_ticket")
                        | Q(user_permissions__codename="view_ticket"))
                .distinct().order_by("username"))


def teams():
    return list(Team.objects.all())


def open_merges(customer_id: int):
    return list(CustomerMerge.objects.filter(target_id=customer_id, undone_at__isnull=True)
                .select_related("source", "actor").order_by("-created_at")[:10])


def canned_responses():
    return list(CannedResponse.objects.order_by("title"))
