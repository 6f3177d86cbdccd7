"""What the queue asks of saved views (tickets.console.queries.view_sources): the views in
this agent's sidebar and the filters behind one key. One query each."""

from django.db.models import Q

from saved_views.models import SavedView
from tickets import plainsql
from tickets.console.filters import QueueFilter
from tickets.console.queries import QueueView

prefix = "saved"
template = "saved_views/_queue_tools.html"
MAX_VIEWS = 50  # per sidebar: personal + shared


def _visible(user):
    return SavedView.objects.filter(Q(owner=user) | Q(shared=True))


def views(user) -> list[QueueView]:
    """Shared views first, then the agent's own, by name. Read with plainsql: this runs on every
    queue page and its live refreshes, where the ORM's compile cost more than the query."""
    rows = plainsql.select_values(SavedView, ("id", "name", "shared", "owner_id", "filters"),
                                  '"owner_id" = %s OR "shared"', [user.pk])
    rows.sort(key=lambda r: (not r[2], r[1], r[0]))
    return [QueueView(f"{prefix}:{pk}", name, 0, source=prefix,
                      extra={"id": pk, "shared": shared, "mine": owner_id == user.pk,
                             "filter": QueueFilter.parse(filters or {}), "params": filters or {}})
            for pk, name, shared, owner_id, filters in rows[:MAX_VIEWS]]


def resolve(user, key: str) -> QueueFilter | None:
    _prefix, _sep, value = key.partition(":")
    if not value.isdigit():
        return None
    filters = _visible(user).filter(pk=int(value)).values_list("filters", flat=True).first()
    return None if filters is None else QueueFilter.parse(filters)
