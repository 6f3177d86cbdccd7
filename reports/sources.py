"""Narrow rows behind the figures, one query per source and period. Each row is a dict:
`ticket`, `at` (the moment that puts it in the period: creation, latest solve, rating,
sending), the breakdown keys (`channel`, `inbox`, `team`, `priority`, `agent`) and the
per-ticket values the figures are made of. The cost follows the tickets in the period: every
source reads one indexed range (ticket created_at, metrics solved_at, survey answered_at /
sent_at), never the whole history.

Sources:
  created   tickets created in the period                        (tickets.Ticket)
  solved    tickets whose latest solve is in the period          (service_levels.TicketMetrics)
  rated     surveys answered in the period                       (surveys.Survey; agent: rated agent)
  surveyed  surveys sent in the period                           (surveys.Survey)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Value, When

from service_levels.models import TicketMetrics
from surveys.models import Survey
from tickets import policy, sql
from tickets.models import Ticket

TAGS = Ticket.tags.through

# For each source: the model, the path from it to the ticket ("" when it is the ticket), the
# column that dates a row, and the column naming the agent it is credited to.
SOURCES = {
    "created": (Ticket, "", "created_at", "sla_metrics__first_reply_by_id"),
    "solved": (TicketMetrics, "ticket__", "solved_at", "first_reply_by_id"),
    "rated": (Survey, "ticket__", "answered_at", "agent_id"),
    "surveyed": (Survey, "ticket__", "sent_at", "ticket__sla_metrics__first_reply_by_id"),
}


def scope(q, source: str) -> Q:
    """The query's filters and the user's visibility, for rows of `source`."""
    _model, prefix, _at, agent = SOURCES[source]
    condition = policy.visible_tickets(q.user, prefix) if q.user is not None else Q()
    for dim, values in q.filters.items():
        if dim == "agent":
            condition &= Q(**{f"{agent}__in": values})
        elif dim == "tag":
            # Correlated: one probe of the (ticket, tag) index per row in the period, where an
            # IN (list of every tagged ticket) would grow with the whole history.
            condition &= Exists(TAGS.objects.filter(ticket_id=OuterRef("ticket_id" if prefix else "id"),
                                                    tag_id__in=values))
        elif dim == "team":
            condition &= Q(**{f"{prefix}team_id__in": values})
        else:
            condition &= Q(**{f"{prefix}{dim}__in": values})
    return condition


DIMENSIONS = ("channel", "inbox", "team", "priority", "agent")
JSON_VALUES = {"next_replies", "targets"}


def rows(q, source: str, values=(), dims=DIMENSIONS, *, dated: bool = True) -> list[dict]:
    """Rows of `source` dated in the query's period, oldest first, with the breakdown keys in
    `dims` (a summary needs none: no join) and the per-ticket `values`."""
    model, prefix, at, agent = SOURCES[source]
    columns = {"ticket": "ticket_id" if prefix else "id", **({"at": at} if dated else {})}
    paths = {"channel": f"{prefix}channel", "inbox": f"{prefix}inbox", "team": f"{prefix}team_id",
             "priority": f"{prefix}priority", "agent": agent}
    columns.update({dim: paths[dim] for dim in dims})
    columns.update({name: name for name in values})
    found = (model.objects.filter(scope(q, source), **{f"{at}__gte": q.period.start, f"{at}__lt": q.period.end})
             .order_by(at).values_list(*columns.values()))
    return fetch(found, list(columns), datetimes=("at",) if dated else (), jsons=JSON_VALUES.intersection(columns))


def rate_counts(q, source: str, counted: Q) -> tuple[int, int]:
    """(rows matching `counted`, rows) of `source` dated in the period, counted by the database:
    a summary's survey rates need no row back."""
    model, _prefix, at, _agent = SOURCES[source]
    found = model.objects.filter(scope(q, source), **{f"{at}__gte": q.period.start, f"{at}__lt": q.period.end})
    counts = found.aggregate(numerator=Count("pk", filter=counted), denominator=Count("pk"))
    return counts["numerator"], counts["denominator"]


def fetch(queryset, names: list[str], *, datetimes=(), jsons=()) -> list[dict]:
    """The rows of a values_list() queryset as dicts, converted here rather than by the ORM's
    per-value converters: a report reads thousands of rows and those converters were half of
    its time. Datetimes come back aware (UTC); JSON parsed (SQLite gives text)."""
    found = sql.unconverted_rows(queryset)
    out = [dict(zip(names, row, strict=True)) for row in found]
    for name in datetimes:
        for row in out:
            value = row[name]
            if value is None:
                continue
            if isinstance(value, str):
                row[name] = datetime.fromisoformat(value).replace(tzinfo=UTC)
            elif value.tzinfo is None:
                row[name] = value.replace(tzinfo=UTC)
    for name in jsons:
        for row in out:
            value = row[name]
            if value == "[]":  # most tickets: no next reply; not worth the parser
                row[name] = []
            elif isinstance(value, str | bytes):
                row[name] = json.loads(value)
    return out


def tags_of(ticket_ids) -> dict[int, list[int]]:
    """ticket id -> its tag ids (the tag breakdown only), read in chunks."""
    ids, out = list(ticket_ids), {}
    for i in range(0, len(ids), 5000):
        for ticket_id, tag_id in TAGS.objects.filter(ticket_id__in=ids[i:i + 5000]).values_list("ticket_id", "tag_id"):
            out.setdefault(ticket_id, []).append(tag_id)
    return out


def bucket_counts(q, source: str, edges: list, *, until_end: bool = True, by_active: bool = False) -> dict:
    """Rows of `source` dated from the period start, counted per bucket in the database (no row
    comes back): {bucket index: count}, or {(bucket index, unsolved now?): count} with
    `by_active`. Bucket i holds the rows dated before edges[i] (and not before edges[i-1]);
    len(edges) holds the rest (only without `until_end`)."""
    model, prefix, at, _agent = SOURCES[source]
    bucket = Case(*[When(**{f"{at}__lt": edge}, then=Value(i)) for i, edge in enumerate(edges)],
                  default=Value(len(edges)), output_field=IntegerField())
    rows = model.objects.filter(scope(q, source), **{f"{at}__gte": q.period.start})
    if until_end:
        rows = rows.filter(**{f"{at}__lt": q.period.end})
    keys = ["b"]
    if by_active:
        rows = rows.annotate(active=Case(When(**{f"{prefix}status__in": Ticket.ACTIVE_STATUSES}, then=Value(1)),
                                         default=Value(0), output_field=IntegerField()))
        keys.append("active")
    counted = rows.annotate(b=bucket).values(*keys).annotate(n=Count("pk")).order_by().values_list(*keys, "n")
    if by_active:
        return {(b, bool(active)): n for b, active, n in counted}
    return dict(counted)


def unsolved_now(q) -> int:
    return Ticket.objects.filter(scope(q, "created"), status__in=Ticket.ACTIVE_STATUSES).count()


def backlog_tickets(q, moment) -> list[dict]:
    """The tickets unsolved at `moment` (the backlog's drill-down): those unsolved now, and
    those solved since `moment`; two indexed reads, oldest first."""
    columns = {"ticket": "id", "at": "created_at", "channel": "channel", "inbox": "inbox", "team": "team_id",
               "priority": "priority", "agent": "sla_metrics__first_reply_by_id", "status": "status",
               "solved_at": "sla_metrics__solved_at"}
    # The unsolved are few: read them by status (a created_at bound here made SQLite walk the
    # creation index through the whole history) and keep those created before `moment`.
    unsolved = Ticket.objects.filter(scope(q, "created"), status__in=Ticket.ACTIVE_STATUSES).values_list(*columns.values())
    # Solved since `moment`, read from the solve-date index (not from every older ticket).
    solved_since = (TicketMetrics.objects.filter(scope(q, "solved"), solved_at__gte=moment, ticket__created_at__lt=moment)
                    .values_list("ticket_id", "ticket__created_at", "ticket__channel", "ticket__inbox",
                                 "ticket__team_id", "ticket__priority", "first_reply_by_id", "ticket__status",
                                 "solved_at"))  # the same columns as `columns`, seen from the metrics
    found = {}
    for query in (unsolved, solved_since):
        for row in fetch(query, list(columns), datetimes=("at", "solved_at")):
            if row["at"] < moment:
                found[row["ticket"]] = row
    return sorted(found.values(), key=lambda row: (row["at"], row["ticket"]))
