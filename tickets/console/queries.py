"""The console's reads, each a fixed number of SQL queries whatever the size of the tables
(the queue and ticket pages assert this in tests)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Q
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from tickets.automated import AUTOMATED
from tickets.console.activity import ACTIVITY_KINDS, CUSTOMER_KINDS, TICKET_CHANGES
from tickets.console.avatars import pictures_of
from tickets.console.filters import QueueFilter
from tickets.models import Attachment, CannedResponse, CustomerMerge, Event, Message, Team, Ticket
from tickets.people import customer_names, display_name
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
    source: str = ""  # "" for the built-in views, else the app that adds it (saved views)
    extra: dict = field(default_factory=dict)  # what that app's template needs (owner, shared...)


@cache
def view_sources() -> list:
    """HELPDESK_QUEUE_VIEW_SOURCES: modules of apps adding views to the queue's sidebar (saved views), found
    through a setting so tickets imports none of them. Each has `prefix` (its keys are
    "<prefix>:<id>"), `template` (a part the queue page includes: its buttons and forms),
    `views(user) -> list[QueueView]` with their filters in `extra["filter"]` (the counts are
    read here, in one query for all of them), and `resolve(user, key) -> QueueFilter | None`."""
    return [import_module(path) for path in getattr(settings, "HELPDESK_QUEUE_VIEW_SOURCES", ())]


def source_filter(view: str, user) -> QueueFilter | None:
    """The filters of an app's view ("saved:12"), if this user may open it."""
    prefix = view.partition(":")[0]
    for source in view_sources():
        if source.prefix == prefix:
            return source.resolve(user, view)
    return None


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
    if any(source.prefix == kind for source in view_sources()):
        return Q() if source_filter(view, user) is not None else None
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
    customer_id: int | None = None
    status_label: str = ""
    priority_label: str = ""
    picture: str = ""  # the customer's picture on our origin (tickets.console.avatars), or ""


QUEUE_COLUMNS = ("pk", "subject", "status", "priority", "channel", "waiting_since", "customer_id", "customer__name",
                 "assignee__username", "assignee__first_name", "assignee__last_name")


def queue_orders() -> dict:
    """The orders apps offer besides the default (settings.HELPDESK_QUEUE_ORDERS): key ->
    callable(active tickets queryset, limit) -> ids, with a `label`."""
    return {key: import_string(path) for key, path in getattr(settings, "HELPDESK_QUEUE_ORDERS", {}).items()}


def queue_tickets(view: str, user, limit: int = QUEUE_SIZE, order: str = "",
                  filters: QueueFilter | None = None) -> list[QueueRow]:
    """Longest-waiting customer first, then tickets nobody waits on (answered), least recently
    touched first; solved tickets most recently solved first; or an app's `order` of the
    active tickets (queue_orders). Ids come from index-ordered scans (a LIMIT over an index,
    whatever the table size), then the rows in one query.
    A saved view or the agent's own `filters` narrow the view and may sort it otherwise."""
    saved = source_filter(view, user) if ":" in view else None
    where = Q() if saved is not None else queue_filter(view, user)
    if where is None:
        where, view = Q(), "open"
    where &= visible_tickets(user)
    if saved is not None or (filters is not None and not filters.empty):
        layers = [f for f in (saved, filters) if f is not None and not f.empty]
        return queue_rows(filtered_ids(view, where, layers, user, limit))
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


def filter_choices(views: list[QueueView]) -> dict:
    """What the queue's filter bar offers: channels, teams and inboxes from the views just
    counted (no query), the agents (one query), statuses, priorities, dates and sorts."""
    from tickets.console.filters import CREATED_WITHIN, SORTS

    def of(prefix):
        return [(v.key.partition(":")[2], v.label) for v in views if v.key.startswith(prefix) and not v.source]

    return {"statuses": Ticket.Status.choices, "priorities": Ticket.Priority.choices,
            "channels": of("channel:"), "teams": of("team:"), "inboxes": of("inbox:"),
            "agents": [(str(a.pk), display_name(a)) for a in agents()],
            "created": [(k, label) for k, (_delta, label) in CREATED_WITHIN.items()], "sorts": list(SORTS.items())}


def filtered_ids(view: str, where: Q, filters: list[QueueFilter], user, limit: int) -> list[int]:
    """Ticket ids of a view narrowed by filters, in the last chosen order. The statuses are the
    last filter's that names some, else the view's (solved on Solved, else the active ones)."""
    # No layer may sort (a view saved from *All open* with nothing picked has no filters at all).
    order = next((f.order() for f in reversed(filters) if f.sort), QueueFilter().order())
    named = next((f.status for f in reversed(filters) if f.status), ())
    where &= Q(status__in=list(named) or ([Ticket.Status.SOLVED] if view == "solved" else ACTIVE))
    for f in filters:
        where &= f.where(user, statuses=False)
    return list(Ticket.objects.filter(where).order_by(*order).values_list("pk", flat=True)[:limit])


def queue_rows(ids: list[int]) -> list[QueueRow]:
    """The queue rows of these tickets, in this order: three queries whatever the count (the
    rows, their tags, the pictures of their customers; the nameless ones' identities when any)."""
    tags: dict[int, list[str]] = {}
    for ticket_id, name in (Ticket.tags.through.objects.filter(ticket_id__in=ids)
                            .order_by("tag__name").values_list("ticket_id", "tag__name")):
        tags.setdefault(ticket_id, []).append(name)
    statuses = {value: str(label) for value, label in Ticket.Status.choices}
    priorities = {value: str(label) for value, label in Ticket.Priority.choices}
    rows = {}
    found = list(Ticket.objects.filter(pk__in=ids).values(*QUEUE_COLUMNS))
    names = customer_names((r["customer_id"], r["customer__name"]) for r in found)
    pictures = pictures_of(r["customer_id"] for r in found) if found else {}
    for r in found:
        assignee = " ".join(filter(None, [r["assignee__first_name"], r["assignee__last_name"]])) or r["assignee__username"]
        rows[r["pk"]] = QueueRow(
            pk=r["pk"], subject=r["subject"], status=r["status"], priority=r["priority"], channel=r["channel"],
            waiting_since=r["waiting_since"], customer=names[r["customer_id"]],
            assignee=assignee or "", tags=tags.get(r["pk"], []), customer_id=r["customer_id"],
            status_label=statuses.get(r["status"], r["status"]), priority_label=priorities.get(r["priority"], ""),
            picture=pictures.get(r["customer_id"], ""))
    return [rows[pk] for pk in ids if pk in rows]


def inbox_names() -> dict[str, str]:
    """{inbox key: display name} from the function HELPDESK_INBOX_NAMES names (none: {})."""
    path = getattr(settings, "HELPDESK_INBOX_NAMES", "")
    return import_string(path)() if path else {}


def queue_views(user) -> list[QueueView]:
    """Every view with its count: one GROUP BY over the active tickets (read from
    ticket_counts_idx alone), a count of the solved ones, and the team names."""
    scope = visible_tickets(user)
    rows = list(Ticket.objects.extra(where=[ACTIVE_SQL]).filter(scope)  # noqa: S610 - constant SQL
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
    return views + source_views(user, scope, rows)


def source_views(user, scope: Q, groups: list[tuple]) -> list[QueueView]:
    """The apps' views (saved views) with their counts. A view on status, channel, inbox, team
    and assignee alone is counted from the active tickets' GROUP BY just read (`groups`: no
    query); the others (tag, priority, date, solved...) with one conditional COUNT each in ONE
    query over the statuses they ask for, whatever the number of views."""
    views = [view for source in view_sources() for view in source.views(user)]
    rest = []
    for view in views:
        f = view.extra["filter"]
        if f.countable_from_groups:
            view.count = sum(row[-1] for row in groups if f.matches_group(user, *row[:-1]))
        else:
            rest.append(view)
    if rest:
        statuses = sorted({s for view in rest for s in view.extra["filter"].statuses})
        counts = Ticket.objects.filter(scope, status__in=statuses).aggregate(
            **{f"v{i}": Count("pk", filter=view.extra["filter"].where(user)) for i, view in enumerate(rest)})
        for i, view in enumerate(rest):
            view.count = counts[f"v{i}"]
    return views


@dataclass
class Block:
    """One ticket of the customer's history: its header once, then its messages and activity."""

    ticket: Ticket
    messages: list  # this ticket's messages on the page, oldest first
    current: bool
    items: list = field(default_factory=list)  # messages and Activity, oldest first
    html: str = ""  # the items, rendered by tickets.console.rendering

    @property
    def last_at(self):
        return self.items[-1].created_at if self.items else None


@dataclass
class TimelineMessage:
    """What the timeline shows of a message: plain values (see QueueRow for why)."""

    pk: int
    ticket_id: int
    direction: str
    channel: str
    adapter: str
    identity_id: int | None
    author_id: int | None
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

    @property
    def is_system_note(self) -> bool:
        """A note nobody typed (a survey's, a rule's): the timeline shows it as an activity line."""
        return self.direction == Message.Direction.NOTE and self.author_id is None

    @property
    def automated(self) -> str:
        return str((self.meta or {}).get(AUTOMATED) or "") if isinstance(self.meta, dict) else ""


@dataclass
class Activity:
    """An event that makes a line in the timeline (tickets.console.activity)."""

    seq: int
    ticket_id: int | None
    kind: str
    data: dict
    created_at: object


TIMELINE_COLUMNS = ("pk", "ticket_id", "direction", "channel", "adapter", "identity_id", "author_id", "author_name",
                    "subject", "text", "html", "status", "error_message", "created_at", "meta")
ACTIVITY_SIZE = 300  # newest activity lines on a ticket page, within the span of the messages shown


def timeline_messages(query) -> list[TimelineMessage]:
    """TimelineMessages of a Message query (its order kept), with their attachments: two queries."""
    rows = [TimelineMessage(*row) for row in query.values_list(*TIMELINE_COLUMNS)]
    files: dict[int, list] = {}
    for item in Attachment.objects.filter(message_id__in=[m.pk for m in rows]).order_by("pk"):
        files.setdefault(item.message_id, []).append(item)
    for message in rows:
        message.files = files.get(message.pk, [])
    return rows


_LINES_SQL: dict[str, str] = {}


def lines_sql() -> str:
    """The WHERE that keeps the events making a line, as constant SQL (no input in it): through
    the ORM its JSON lookups doubled the activity query's cost (0.9 ms against 0.45 ms on the
    benchmark's ticket page, a tenth of the page), so it is written once per database vendor."""
    vendor = connection.vendor
    if vendor not in _LINES_SQL:
        table = connection.ops.quote_name(Event._meta.db_table)
        kind, data = f'{table}."kind"', f'{table}."data"'

        def key(name: str) -> str:
            return f"json_extract({data}, '$.{name}')" if vendor == "sqlite" else f"({data} ->> '{name}')"

        def listed(values) -> str:
            return ", ".join(f"'{v}'" for v in values)

        others = [k for k in ACTIVITY_KINDS if k not in ("ticket.updated", "message.status")]
        _LINES_SQL[vendor] = (f"(({kind} = 'ticket.updated' AND {key('change')} IN ({listed(TICKET_CHANGES)}))"
                              f" OR ({kind} = 'message.status' AND {key('status')} = 'failed')"
                              f" OR {kind} IN ({listed(others)}))")
    return _LINES_SQL[vendor]


def activity_query(customer_id: int, ticket_ids):
    """Events of these tickets (and the customer's own, such as merges) that make a line."""
    ids = [int(pk) for pk in ticket_ids] or [0]
    table = connection.ops.quote_name(Event._meta.db_table)
    whose = (f'({table}."ticket_id" IN ({", ".join(["%s"] * len(ids))}) OR ({table}."ticket_id" IS NULL'
             f' AND {table}."customer_id" = %s AND {table}."kind" IN ({", ".join(["%s"] * len(CUSTOMER_KINDS))})))')
    return Event.objects.extra(where=[whose, lines_sql()],  # noqa: S610 - placeholders and constant SQL
                               params=[*ids, int(customer_id), *CUSTOMER_KINDS])


def activity(customer_id: int, ticket_ids, since=None, seqs=None) -> list[Activity]:
    """The activity of these tickets, oldest first: the newest ACTIVITY_SIZE since `since`
    (the oldest message shown), or the events `seqs` (a live console asking for new lines)."""
    query = activity_query(customer_id, ticket_ids)
    if since is not None:
        query = query.filter(created_at__gte=since)
    if seqs is not None:
        query = query.filter(seq__in=seqs)
    rows = [Activity(*row) for row in query.order_by("-seq").values_list(
        "seq", "ticket_id", "kind", "data", "created_at")[:ACTIVITY_SIZE]]
    rows.reverse()
    return rows


def history(ticket: Ticket, show_all: bool = False, user=None) -> tuple[list[Block], bool, TimelineMessage | None]:
    """The customer's history across every ticket and channel, one block per ticket (its
    header once, however its messages interleave with other tickets'), the other tickets by
    their latest activity and this ticket last, beside the reply box; whether older messages
    were left out; and the customer's last inbound message. With `user`, only tickets that
    user may see (team scoping)."""
    scope = visible_tickets(user, prefix="ticket__") if user is not None else Q()
    query = Message.objects.filter(scope, customer_id=ticket.customer_id).order_by("-created_at", "-pk")
    rows = timeline_messages(query if show_all else query[: HISTORY_SIZE + 1])
    hidden = len(rows) > HISTORY_SIZE and not show_all
    rows = rows[:HISTORY_SIZE] if hidden else rows
    rows.reverse()
    ticket_ids = {m.ticket_id for m in rows} | {ticket.pk}
    tickets = Ticket.objects.filter(pk__in=ticket_ids).only(  # with this one: the same query every time
        "id", "subject", "status", "channel", "customer_id").in_bulk()
    tickets[ticket.pk] = ticket
    blocks: dict[int, Block] = {pk: Block(t, [], pk == ticket.pk) for pk, t in tickets.items()}
    for message in rows:
        blocks[message.ticket_id].messages.append(message)
    lines = activity(ticket.customer_id, ticket_ids, since=rows[0].created_at if hidden else None)
    with_lines = set()
    for block in blocks.values():
        block.items = list(block.messages)
    for line in lines:
        pk = line.ticket_id if line.ticket_id in blocks else ticket.pk
        blocks[pk].items.append(line)
        with_lines.add(pk)
    for pk in with_lines:  # the messages are in order already
        blocks[pk].items.sort(key=lambda i: (i.created_at, isinstance(i, Activity), getattr(i, "pk", None) or i.seq))
    current = blocks.pop(ticket.pk)
    ordered = sorted((b for b in blocks.values() if b.items), key=lambda b: (b.last_at, b.ticket.pk))
    # The reply goes back where the customer last wrote *in this ticket* (as route_reply
    # decides), not where they last wrote anywhere: an email ticket answers by email even if
    # the customer texted about something else since.
    inbound = [m for m in rows if m.direction == Message.Direction.INBOUND]
    last_inbound = next((m for m in reversed(inbound) if m.ticket_id == ticket.pk), inbound[-1] if inbound else None)
    return [*ordered, current], hidden, last_inbound


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
