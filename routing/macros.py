"""Macros: named bundles of changes an agent applies to a ticket by hand (a reply with
placeholders, status, priority, tags, assign to me). Personal (owner), a team's, or shared.
preview() says exactly what apply() will do; apply() does it through tickets.services."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext as _

from routing.models import Macro
from tickets import services
from tickets.console.compose import fill_placeholders
from tickets.models import Ticket
from tickets.policy import team_ids


def available(user):
    """The user's own macros, their teams', and shared ones."""
    return Macro.objects.filter(Q(owner=user) | Q(owner__isnull=True, team__isnull=True)
                                | Q(owner__isnull=True, team_id__in=team_ids(user))).order_by("shortcut", "name")


def _tags(text: str) -> list[str]:
    return [slugify(t, allow_unicode=True) for t in text.split(",") if slugify(t, allow_unicode=True)]


def preview(macro: Macro, ticket: Ticket, agent) -> dict:
    changes = []
    if macro.status:
        changes.append(_("status: %(v)s") % {"v": Ticket.Status(macro.status).label})
    if macro.priority is not None:
        changes.append(_("priority: %(v)s") % {"v": Ticket.Priority(macro.priority).label})
    if macro.add_tags:
        changes.append(_("add tags: %(v)s") % {"v": ", ".join(_tags(macro.add_tags))})
    if macro.remove_tags:
        changes.append(_("remove tags: %(v)s") % {"v": ", ".join(_tags(macro.remove_tags))})
    if macro.assign_to_me:
        changes.append(_("assign to %(v)s") % {"v": agent.get_full_name() or agent.get_username()})
    reply = fill_placeholders(macro.reply, ticket=ticket, agent=agent) if macro.reply.strip() else ""
    return {"id": macro.pk, "name": macro.name, "shortcut": macro.shortcut, "reply": reply, "changes": changes}


def apply(macro: Macro, ticket: Ticket, agent, client_id: str | None = None) -> dict:
    """All of the macro or none of it (one transaction); the reply is delivered after commit.
    `client_id` makes a double-pressed shortcut one reply."""
    shown = preview(macro, ticket, agent)
    with transaction.atomic():
        ticket = Ticket.objects.select_related("customer").get(pk=ticket.pk)
        if shown["reply"]:
            services.reply(ticket, author=agent, text=shown["reply"], client_id=client_id)
        if macro.add_tags or macro.remove_tags:
            current = set(ticket.tags.values_list("name", flat=True))
            services.set_tags(ticket, sorted((current | set(_tags(macro.add_tags))) - set(_tags(macro.remove_tags))),
                              actor=agent)
        if macro.priority is not None:
            services.set_priority(ticket, macro.priority, actor=agent)
        if macro.assign_to_me:
            services.assign(ticket, assignee=agent, actor=agent)
        if macro.status:
            services.set_status(ticket, macro.status, actor=agent)
    return shown
