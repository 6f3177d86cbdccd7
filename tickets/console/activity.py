"""What happened to a ticket, as the compact activity lines of the console's timeline.

The lines are read from the event log (the same events every console already receives live),
one sentence per event, with who did it and when: "Alice changed the status from Open to
Solved". Apps built on `tickets` add no code here: their kinds that deserve a line are described
by the data their events carry (service levels) or by the note they leave in the timeline
(surveys, rules: notes without an author are shown as activity lines by rendering.py, and they
outlive the event log, which is pruned after HELPDESK_EVENT_RETENTION_DAYS).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.models import Ticket
from tickets.people import customer_name, display_name

# Kinds that may give a line (describe() still returns "" for a ticket.updated that changed
# nothing an agent reads, such as the waiting clock after a reply).
ACTIVITY_KINDS = ("ticket.updated", "message.moved", "message.status", "customer.merged", "customer.unmerged",
                  "sla.warning", "sla.breached")
TICKET_CHANGES = ("status", "priority", "assignment", "tags")
# Customer-wide events: no ticket of their own, shown in the ticket being read.
CUSTOMER_KINDS = ("customer.merged", "customer.unmerged")


@dataclass
class Names:
    """Labels the lines need, loaded once per page (the page loads agents and teams anyway)."""

    users: dict
    teams: dict

    @classmethod
    def of(cls, agents, teams) -> Names:
        return cls({a.pk: display_name(a) for a in agents}, {t.pk: t.name for t in teams})

    def user(self, pk) -> str:
        return self.users.get(pk) or _("an agent no longer here")

    def team(self, pk) -> str:
        return self.teams.get(pk) or _("a team no longer here")


def _status(value) -> str:
    return str(dict(Ticket.Status.choices).get(value, value))


def _priority(value) -> str:
    try:
        return str(Ticket.Priority(int(value)).label)
    except (TypeError, ValueError):
        return str(value)


def _who(data) -> str:
    return data.get("actor") or _("The helpdesk")


SLA_TARGETS = {"first_reply": gettext_lazy("first reply"), "next_reply": gettext_lazy("next reply"),
               "resolution": gettext_lazy("resolution")}


def describe(kind: str, data: dict, names: Names, *, ticket_id=None) -> str:
    """The sentence for one event, or "" when it makes no line."""
    data = data if isinstance(data, dict) else {}
    if kind == "ticket.updated":
        return _ticket_updated(data, names)
    if kind == "message.moved":
        if data.get("ticket") != ticket_id:  # the source ticket's copy: one line, on the target
            return ""
        return _("%(who)s moved a message here from #%(from)s") % {"who": _who(data), "from": data.get("moved_from")}
    if kind == "message.status":
        if data.get("status") != "failed":
            return ""
        return (_("A reply could not be delivered: %(reason)s") % {"reason": data["error"]} if data.get("error")
                else _("A reply could not be delivered"))
    if kind == "customer.merged":
        return _("%(who)s merged %(source)s into this customer") % {
            "who": _who(data), "source": customer_name(data.get("source_name", ""), (), data.get("source"))}
    if kind == "customer.unmerged":
        return _("%(who)s undid the merge of %(source)s") % {
            "who": _who(data), "source": customer_name(data.get("source_name", ""), (), data.get("source"))}
    if kind in ("sla.warning", "sla.breached"):
        target = SLA_TARGETS.get(data.get("target"), data.get("target") or "")
        if kind == "sla.warning":
            return _("SLA warning: the %(target)s target is close to its deadline") % {"target": target}
        return _("SLA breached: the %(target)s target was missed") % {"target": target}
    return ""


def _ticket_updated(data: dict, names: Names) -> str:
    change, who, before = data.get("change"), _who(data), data.get("previous") or {}
    if change == "status":
        if "status" in before:
            return _("%(who)s changed the status from %(old)s to %(new)s") % {
                "who": who, "old": _status(before["status"]), "new": _status(data.get("status"))}
        return _("%(who)s set the status to %(new)s") % {"who": who, "new": _status(data.get("status"))}
    if change == "priority":
        if "priority" in before:
            return _("%(who)s changed the priority from %(old)s to %(new)s") % {
                "who": who, "old": _priority(before["priority"]), "new": _priority(data.get("priority"))}
        return _("%(who)s set the priority to %(new)s") % {"who": who, "new": _priority(data.get("priority"))}
    if change == "assignment":
        parts = []
        assignee_changed = "assignee" not in before or before["assignee"] != data.get("assignee")
        if assignee_changed:
            parts.append(_("%(who)s assigned the ticket to %(agent)s") % {"who": who, "agent": names.user(data["assignee"])}
                         if data.get("assignee") else _("%(who)s unassigned the ticket") % {"who": who})
        if "team" in before and before["team"] != data.get("team"):
            team = (_("moved it to the %(team)s team") % {"team": names.team(data["team"])} if data.get("team")
                    else _("removed it from its team"))
            parts.append(team if parts else _("%(who)s %(what)s") % {"who": who, "what": team})
        return _(" and ").join(parts)
    if change == "tags":
        added, removed = data.get("added"), data.get("removed")
        if added is None and removed is None:
            return _("%(who)s set the tags to %(tags)s") % {"who": who, "tags": ", ".join(data.get("tags") or [])}
        parts = []
        if added:
            parts.append(_("added the tags %(tags)s") % {"tags": ", ".join(added)})
        if removed:
            parts.append(_("removed the tags %(tags)s") % {"tags": ", ".join(removed)})
        return _("%(who)s %(what)s") % {"who": who, "what": _(" and ").join(parts)} if parts else ""
    return ""
