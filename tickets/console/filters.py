"""Queue filters an agent picks (status, channel, inbox, team, assignee, tag, priority, created
within, sort), as one value: parsed from a query string or a saved view's stored dict, turned
into a WHERE and an ORDER BY. Unknown or malformed values are dropped, never an error page: a
saved view whose team was deleted still opens, with that filter gone."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Ticket

CREATED_WITHIN = {"1d": (timedelta(days=1), _("Last 24 hours")), "7d": (timedelta(days=7), _("Last 7 days")),
                  "30d": (timedelta(days=30), _("Last 30 days"))}
SORTS = {
    "waiting": _("Longest waiting"),
    "newest": _("Newest first"),
    "oldest": _("Oldest first"),
    "updated": _("Recently updated"),
    "priority": _("Highest priority"),
}
ORDER = {
    "newest": ["-created_at", "-pk"],
    "oldest": ["created_at", "pk"],
    "updated": ["-updated_at", "-pk"],
    "priority": ["-priority", F("waiting_since").asc(nulls_last=True), "updated_at"],
    "waiting": [F("waiting_since").asc(nulls_last=True), "updated_at"],
}


@dataclass(frozen=True)
class QueueFilter:
    status: tuple[str, ...] = ()  # none: the active statuses (new, open, pending), as the built-in views
    channel: str = ""
    inbox: str = ""
    team: int | None = None
    assignee: str = ""  # "me", "none" or a user id
    tag: str = ""
    priority: int | None = None
    created: str = ""  # a key of CREATED_WITHIN
    sort: str = ""  # a key of SORTS; none: longest waiting

    @classmethod
    def parse(cls, params) -> QueueFilter:
        """From a QueryDict or a plain dict (a saved view's stored filters)."""
        def one(name):
            value = params.get(name, "")
            return str(value).strip()[:200] if value is not None else ""

        raw_status = params.getlist("status") if hasattr(params, "getlist") else params.get("status") or []
        if isinstance(raw_status, str):
            raw_status = [raw_status]
        status = tuple(s for s in Ticket.Status.values if s in raw_status)
        team, priority, assignee = one("team"), one("priority"), one("assignee")
        return cls(
            status=status,
            channel=one("channel"),
            inbox=one("inbox"),
            team=int(team) if team.isdigit() else None,
            assignee=assignee if assignee in ("me", "none") or assignee.isdigit() else "",
            tag=one("tag").lower(),
            priority=int(priority) if priority.isdigit() and int(priority) in Ticket.Priority.values else None,
            created=one("created") if one("created") in CREATED_WITHIN else "",
            sort=one("sort") if one("sort") in SORTS else "",
        )

    def params(self) -> dict:
        """The non-empty filters, as stored and as put in a URL (status as a list)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()
                if v not in ("", None, ())}

    @property
    def empty(self) -> bool:
        return not self.params()

    @property
    def statuses(self) -> list[str]:
        return list(self.status) or list(Ticket.ACTIVE_STATUSES)

    def where(self, user, now=None, statuses: bool = True) -> Q:
        """The WHERE of these filters, statuses included unless asked not to (when filters are
        layered, the last one that names statuses decides them)."""
        q = Q(status__in=self.statuses) if statuses else Q()
        if self.channel:
            q &= Q(channel=self.channel)
        if self.inbox:
            q &= Q(inbox=self.inbox)
        if self.team is not None:
            q &= Q(team_id=self.team)
        if self.assignee == "me":
            q &= Q(assignee_id=user.pk)
        elif self.assignee == "none":
            q &= Q(assignee__isnull=True)
        elif self.assignee:
            q &= Q(assignee_id=int(self.assignee))
        if self.tag:
            # EXISTS, not a join: a ticket counts once whatever else it is tagged with.
            q &= Q(Exists(Ticket.tags.through.objects.filter(ticket_id=OuterRef("pk"), tag__name=self.tag)))
        if self.priority is not None:
            q &= Q(priority=self.priority)
        if self.created:
            q &= Q(created_at__gte=(now or timezone.now()) - CREATED_WITHIN[self.created][0])
        return q

    @property
    def countable_from_groups(self) -> bool:
        """Whether the queue's GROUP BY of active tickets (status, channel, team, assignee, inbox)
        holds this filter's count already: no tag, priority or date, and active statuses only."""
        return not (self.tag or self.priority is not None or self.created) and all(
            s in Ticket.ACTIVE_STATUSES for s in self.statuses)

    def matches_group(self, user, status, channel, team_id, assignee_id, inbox) -> bool:
        """This filter on one row of that GROUP BY (only when countable_from_groups)."""
        return (status in self.statuses and (not self.channel or channel == self.channel)
                and (not self.inbox or inbox == self.inbox) and (self.team is None or team_id == self.team)
                and (not self.assignee or assignee_id == {"me": user.pk, "none": None}.get(
                    self.assignee, int(self.assignee) if self.assignee.isdigit() else -1)))

    def order(self) -> list:
        return ORDER[self.sort or "waiting"]


def of_view(view: str) -> dict:
    """A built-in view as filters, so "Save view" on *Mine* + email saves assignee=me too."""
    kind, _sep, value = view.partition(":")
    return {"unassigned": {"assignee": "none"}, "mine": {"assignee": "me"},
            "pending": {"status": ["pending"]}, "solved": {"status": ["solved"]}}.get(view) or (
        {"channel": value} if kind == "channel" else {"team": value} if kind == "team"
        else {"inbox": value} if kind == "inbox" else {})


def combined(*layers: dict) -> QueueFilter:
    """Later layers win, field by field (the view, then a saved view, then the agent's picks)."""
    merged: dict = {}
    for layer in layers:
        merged.update({k: v for k, v in layer.items() if v not in ("", None, [], ())})
    return QueueFilter.parse(merged)
