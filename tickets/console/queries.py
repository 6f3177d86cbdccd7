"""The console's reads, each a fixed number of SQL queries whatever the size of the tables
(the queue and ticket pages assert this in tests)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from tickets.models import Attachment, CannedResponse, CustomerMerge, Message, Team, Ticket
from tickets.policy import visible_tickets

ACTIVE = list(Ticket.ACTIVE_STATUSES)
QUEUE_SIZE = 50  # a screenful; the view counts say how many more there are
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


# The active-status test as literal SQL (constants, not input): SQLite uses the partial
# waiting-order index only when the query repeats its WHERE with literals, not parameters.
ACTIVE_SQL = '"{}"."status" IN ({})'.format(Ticket._meta.db_table, ", ".join(f"'{s}'" for s in ACTIVE))


def queue_filter(view: str, user) -> Q | None:
    """The extra WHERE of a view over the active tickets (or over solved ones for "solved"),
    or None for an unknown view."""
    if view in ("open", "solved"):
        return Q()
    if view == "unassigned":
        return Q(assignee__isnull=True)
    if view == "mine":
        return Q(assignee=user)
    if view == "pending":
        return Q(status=Ticket.Status.PENDING)
    kind, _sep, value = view.partition(":")
    if kind == "channel" and value:
        return Q(channel=value)
    if kind == "team" and value.isdigit():
        return Q(team_id=int(value))
    if kind == "inbox" and value:
        return Q(inbox=value)
    return None


@dataclass
class QueueRow:
    """What a queue row shows. Plain values, not model instances: building ~200 model objects
    (ticket, customer, assignee, team) for a 50-row queue cost more than all its queries."""

    pk: int
    subject: str
    status: str
    priority: int
    channel: str
    waiting_since: object
    customer: str
    assignee: str
    tags: list
    status_label: str = ""
    priority_label: str = ""


QUEUE_COLUMNS = ("pk", "subject", "status", "priority", "channel", "waiting_since", "customer_id", "customer__name",
                 "assignee__username", "assignee__first_name", "assignee__last_name")


def queue_orders() -> dict:
    """The orders apps offer besides the default (settings.HELPDESK_QUEUE_ORDERS): key ->
    callable(active tickets queryset, limit) -> ids, with a `label`."""
    return {key: import_string(path) for key, path in getattr(settings, "HELPDESK_QUEUE_ORDERS", {}).items()}


def queue_tickets(view: str, user, limit: int = QUEUE_SIZE, order: str = "") -> list[QueueRow]:
    """Longest-waiting customer first, then tickets nobody waits on (answered), least recently
    touched first; solved tickets most recently solved first; or an app's `order` of the
    active tickets (queue_orders). Ids come from index-ordered scans (a LIMIT over an index,
    whatever the table size), then the rows in one query."""
    where = queue_filter(view, user)
    if where is None:
        where, view = Q(), "open"
    where &= visible_tickets(user)
    if view == "solved":
        ids = list(Ticket.objects.filter(where, status=Ticket.Status.SOLVED).order_by("-updated_at")
                   .values_list("pk", flat=True)[:limit])
    elif order and (sort := queue_orders().get(order)):
        # A plain filter (the literal ACTIVE_SQL names the table, which breaks in a subquery).
        ids = sort(Ticket.objects.filter(where, status__in=ACTIVE), limit)
    else:
        active = Ticket.objects.extra(where=[ACTIVE_SQL]).filter(where)  # noqa: S610 - constant SQL
        waiting = list(active.filter(waiting_since__isnull=False).order_by("waiting_since", "updated_at")
                       .values_list("pk", flat=True)[:limit])
        answered = list(active.filter(waiting_since__isnull=True).order_by("updated_at")
                        .values_list("pk", flat=True)[:limit])
        ids = (waiting + answered)[:limit]
    return queue_rows(ids)


def queue_rows(ids: list[int]) -> list[QueueRow]:
    """The queue rows of these tickets, in this order: two queries whatever the count."""
    tags: dict[int, list[str]] = {}
    for ticket_id, name in (Ticket.tags.through.objects.filter(ticket_id__in=ids)
                            .order_by("tag__name").values_list("ticket_id", "tag__name")):
        tags.setdefault(ticket_id, []).append(name)
    statuses = {value: str(label) for value, label in Ticket.Status.choices}
    priorities = {value: str(label) for value, label in Ticket.Priority.choices}
    rows = {}
    for r in Ticket.objects.filter(pk__in=ids).values(*QUEUE_COLUMNS):
        assignee = " ".join(filter(None, [r["assignee__first_name"], r["assignee__last_name"]])) or r["assignee__username"]
        rows[r["pk"]] = QueueRow(
            pk=r["pk"], subject=r["subject"], status=r["status"], priority=r["priority"], channel=r["channel"],
            waiting_since=r["waiting_since"], customer=r["customer__name"] or f"Customer {r['customer_id']}",
            assignee=assignee or "", tags=tags.get(r["pk"], []),
            status_label=statuses.get(r["status"], r["status"]), priority_label=priorities.get(r["priority"], ""))
    return [rows[pk] for pk in ids if pk in rows]


def inbox_names() -> dict[str, str]:
    """{inbox key: display name} from the function HELPDESK_INBOX_NAMES names (none: {})."""
    path = getattr(settings, "HELPDESK_INBOX_NAMES", "")
    return import_string(path)() if path else {}


def queue_views(user) -> list[QueueView]:
    """Every view with its count: one GROUP BY over the active tickets (read from
    ticket_counts_idx alone), a count of the solved ones, and the team names."""
    scope = visible_tickets(user)
    rows = (Ticket.objects.extra(where=[ACTIVE_SQL]).filter(scope)  # noqa: S610 - constant SQL
            .values_list("status", "channel", "team_id", "assignee_id", "inbox")
            .annotate(n=Count("*")).order_by())
    counts: Counter = Counter()
    counts["solved"] = Ticket.objects.filter(scope, status=Ticket.Status.SOLVED).count()
    for status, channel, team_id, assignee_id, inbox, n in rows:
        counts["open"] += n
        counts[f"channel:{channel}"] += n
        if ":" in inbox:  # a bare channel key is that channel's default inbox: its channel view
            counts[f"inbox:{inbox}"] += n
        if status == Ticket.Status.PENDING:
            counts["pending"] += n
        if assignee_id is None:
            counts["unassigned"] += n
        elif assignee_id == user.pk:
            counts["mine"] += n
        if team_id:
            counts[f"team:{team_id}"] += n
    views = [QueueView(key, str(label), counts[key]) for key, label in FIXED_VIEWS.items()]
    views += [QueueView(key, key.partition(":")[2], n) for key, n in sorted(counts.items())
              if key.startswith("channel:")]
    views += [QueueView(f"team:{team.pk}", team.name, counts[f"team:{team.pk}"]) for team in Team.objects.all()]
    # One view per inbox tickets came in through, labelled by its name where an app names
    # inboxes (HELPDESK_INBOX_NAMES: routing), else by its key; sorted by label.
    names = inbox_names()
    inboxes = [QueueView(key, names.get(key[6:]) or key.partition(":")[2], n) for key, n in counts.items()
               if key.startswith("inbox:")]
    views += sorted(inboxes, key=lambda v: (v.label.lower(), v.key))
    return views


@dataclass
class Block:
    """A run of consecutive messages of one ticket in the customer's timeline."""

    ticket: Ticket
    messages: list
    current: bool
    html: str = ""  # the messages, rendered by tickets.console.rendering


@dataclass
class TimelineMessage:
    """What the timeline shows of a message: plain values (see QueueRow for why)."""

    pk: int
    ticket_id: int
    direction: str
    channel: str
    adapter: str
    identity_id: int | None
    author_name: str
    subject: str
    text: str
    html: str
    status: str
    error_message: str
    created_at: object
    meta: dict
    files: list = field(default_factory=list)

    has_remote_images = Message.has_remote_images
    folded_text = Message.folded_text
    html_dropped = Message.html_dropped
    id_collision = Message.id_collision


TIMELINE_COLUMNS = ("pk", "ticket_id", "direction", "channel", "adapter", "identity_id", "author_name", "subject",
                    "text", "html", "status", "error_message", "created_at", "meta")


def history(ticket: Ticket, show_all: bool = False, user=None) -> tuple[list[Block], bool, TimelineMessage | None]:
    """The customer's messages across every ticket and channel, oldest first, in runs per
    ticket; whether older ones were left out; and their last inbound message. With `user`,
    only tickets that user may see (team scoping)."""
    scope = visible_tickets(user, prefix="ticket__") if user is not None else Q()
    query = (Message.objects.filter(scope, customer_id=ticket.customer_id).order_by("-created_at", "-pk")
             .values_list(*TIMELINE_COLUMNS))
    rows = [TimelineMessage(*row) for row in (query if show_all else query[: HISTORY_SIZE + 1])]
    hidden = len(rows) > HISTORY_SIZE and not show_all
    rows = rows[:HISTORY_SIZE] if hidden else rows
    rows.reverse()
    # Attachments are rare: one query for all of them.
    files: dict[int, list] = {}
    for item in Attachment.objects.filter(message_id__in=[m.pk for m in rows]).order_by("pk"):
        files.setdefault(item.message_id, []).append(item)
    tickets = Ticket.objects.filter(pk__in={m.ticket_id for m in rows}).only(
        "id", "subject", "status", "channel", "customer_id").in_bulk()
    blocks: list[Block] = []
    for message in rows:
        message.files = files.get(message.pk, [])
        if blocks and blocks[-1].ticket.pk == message.ticket_id:
            blocks[-1].messages.append(message)
        else:
            blocks.append(Block(tickets[message.ticket_id], [message], message.ticket_id == ticket.pk))
    # The reply goes back where the customer last wrote *in this ticket* (as route_reply
    # decides), not where they last wrote anywhere: an email ticket answers by email even if
    # the customer texted about something else since.
    inbound = [m for m in rows if m.direction == Message.Direction.INBOUND]
    last_inbound = next((m for m in reversed(inbound) if m.ticket_id == ticket.pk), inbound[-1] if inbound else None)
    return blocks, hidden, last_inbound


def other_tickets(ticket: Ticket, user=None):
    scope = visible_tickets(user) if user is not None else Q()
    return list(Ticket.objects.filter(scope, customer_id=ticket.customer_id).exclude(pk=ticket.pk)
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
