"""Rules: when something happens to a ticket, if its conditions hold, take actions.

A rule is data (routing.Rule: a trigger, a list of conditions, a list of actions), checked
here by validate() before it is saved and evaluated by matches() / apply(). Every action goes
through tickets.services, so it is an event like an agent's change, with the rule named as the
actor; apply() also leaves one internal note in the timeline saying what the rule did.
"""

from __future__ import annotations

import re
from functools import cached_property

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from routing.assignment import Actor
from routing.models import Rule
from tickets import automated, language, services
from tickets.models import CannedResponse, Team, Ticket

# field -> the operators it accepts
FIELDS = {
    "channel": ("is", "is_not"),
    "inbox": ("is", "is_not"),
    "subject": ("contains", "not_contains"),
    "body": ("contains", "not_contains"),
    "organisation": ("is", "contains"),
    "tag": ("has", "has_not"),
    "priority": ("is", "is_not", "at_least"),
    "status": ("is", "is_not"),
    "language": ("is", "is_not"),
    "business_hours": ("is",),
}
BUSINESS_HOURS = ("inside", "outside")
FIELD_LABELS = {
    "channel": gettext_lazy("Channel"), "inbox": gettext_lazy("Inbox"), "subject": gettext_lazy("Subject"),
    "body": gettext_lazy("Message text"), "organisation": gettext_lazy("Customer organisation"),
    "tag": gettext_lazy("Tag"), "priority": gettext_lazy("Priority"), "status": gettext_lazy("Status"),
    "language": gettext_lazy("Language"), "business_hours": gettext_lazy("Business hours (inside / outside)"),
}
ACTIONS = {
    # action -> what its value is
    "set_team": "team", "assign": "user", "auto_assign": None, "set_priority": "priority",
    "add_tags": "tags", "remove_tags": "tags", "reply": "canned", "note": "text", "notify": "user",
    "set_status": "status", "webhook": "url",
}
ACTION_LABELS = {
    "set_team": gettext_lazy("Set team"), "assign": gettext_lazy("Assign to"),
    "auto_assign": gettext_lazy("Hand to automatic assignment"), "set_priority": gettext_lazy("Set priority"),
    "add_tags": gettext_lazy("Add tags"), "remove_tags": gettext_lazy("Remove tags"),
    "reply": gettext_lazy("Reply with a canned response"), "note": gettext_lazy("Add an internal note"),
    "notify": gettext_lazy("Notify an agent"), "set_status": gettext_lazy("Set status"),
    "webhook": gettext_lazy("Call a webhook"),
}
MAX_TEXT = 2000


def _tags(value) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [t.strip().lower() for t in items if str(t).strip()]


def validate(trigger: str, conditions, actions) -> tuple[list[dict], list[dict]]:
    """The rule's conditions and actions, cleaned; ValidationError naming each mistake."""
    errors = []
    if trigger not in Rule.Trigger.values:
        errors.append(_("Unknown trigger %(t)r.") % {"t": trigger})
    if not isinstance(conditions, list) or not isinstance(actions, list):
        raise ValidationError(_("Conditions and actions must be lists."))
    clean_conditions = []
    for n, item in enumerate(conditions, 1):
        fld, op, value = (item or {}).get("field"), (item or {}).get("op"), (item or {}).get("value", "")
        if fld not in FIELDS:
            errors.append(_("Condition %(n)s: unknown field %(f)r.") % {"n": n, "f": fld})
            continue
        if op not in FIELDS[fld]:
            errors.append(_("Condition %(n)s: %(f)s cannot use %(op)r (use %(ops)s).")
                          % {"n": n, "f": fld, "op": op, "ops": ", ".join(FIELDS[fld])})
            continue
        if fld == "priority":
            if str(value) not in {str(v) for v in Ticket.Priority.values}:
                errors.append(_("Condition %(n)s: priority must be one of %(v)s.")
                              % {"n": n, "v": ", ".join(str(v) for v in Ticket.Priority.values)})
                continue
            value = int(value)
        elif fld == "status" and value not in Ticket.Status.values:
            errors.append(_("Condition %(n)s: unknown status %(v)r.") % {"n": n, "v": value})
            continue
        elif fld == "business_hours" and str(value).strip().lower() not in BUSINESS_HOURS:
            errors.append(_("Condition %(n)s: business hours are 'inside' or 'outside'.") % {"n": n})
            continue
        elif fld == "language" and not language.from_hint(value):
            errors.append(_("Condition %(n)s: write a language code such as en, de, fr.") % {"n": n})
            continue
        elif not str(value).strip():
            errors.append(_("Condition %(n)s: a value is required.") % {"n": n})
            continue
        if fld == "business_hours":
            value = str(value).strip().lower()
        elif fld == "language":
            value = language.from_hint(value)  # "de-AT" is German: tickets keep the primary tag
        clean_conditions.append({"field": fld, "op": op, "value": value if fld == "priority" else str(value).strip()})
    clean_actions = []
    if not actions:
        errors.append(_("A rule needs at least one action."))
    for n, item in enumerate(actions, 1):
        name, value = (item or {}).get("action"), (item or {}).get("value")
        if name not in ACTIONS:
            errors.append(_("Action %(n)s: unknown action %(a)r.") % {"n": n, "a": name})
            continue
        problem, value = _check_value(ACTIONS[name], value)
        if problem:
            errors.append(_("Action %(n)s (%(a)s): %(p)s") % {"n": n, "a": ACTION_LABELS[name], "p": problem})
            continue
        clean_actions.append({"action": name, "value": value})
    if errors:
        raise ValidationError(errors)
    return clean_conditions, clean_actions


def _check_value(kind, value):
    """(problem or "", cleaned value) for one action's value."""
    if kind is None:
        return "", None
    if kind in ("team", "user", "canned"):
        model = {"team": Team, "user": get_user_model(), "canned": CannedResponse}[kind]
        try:
            found = model.objects.filter(pk=int(value)).exists()
        except (TypeError, ValueError):
            found = False
        return ("", int(value)) if found else (_("choose an existing one."), value)
    if kind == "priority":
        ok = str(value) in {str(v) for v in Ticket.Priority.values}
        return ("", int(value)) if ok else (_("unknown priority."), value)
    if kind == "status":
        return ("", value) if value in Ticket.Status.values else (_("unknown status."), value)
    if kind == "tags":
        tags = _tags(value)
        return ("", tags) if tags else (_("name at least one tag."), value)
    if kind == "text":
        text = str(value or "").strip()
        if not text:
            return _("the text is empty."), value
        return ("", text) if len(text) <= MAX_TEXT else (_("at most %(n)s characters.") % {"n": MAX_TEXT}, value)
    if kind == "url":
        url = str(value or "").strip()
        return ("", url) if re.match(r"^https?://[^\s/]+", url) else (_("enter an http(s) URL."), value)
    return _("unsupported."), value


class Facts:
    """What conditions look at, read lazily: most rules never need the customer or tags.
    `at`: when it happened (business hours are judged then, not when the worker got to it)."""

    def __init__(self, ticket: Ticket, text: str = "", at=None):
        self.ticket, self.text, self.at = ticket, text, at

    @cached_property
    def business_hours(self) -> str:
        from routing import hours

        return "inside" if hours.is_open(self.ticket, self.at or timezone.now()) else "outside"

    @cached_property
    def organisation(self) -> str:
        return self.ticket.customer.organisation or ""

    @cached_property
    def tags(self) -> set[str]:
        return set(self.ticket.tags.values_list("name", flat=True))

    def value(self, name: str):
        return _GETTERS[name](self)

    def lowered(self, name: str) -> str:
        """The value as text, lower-case, computed once per fact: fifty rules testing the
        subject lower it once."""
        cache = self.__dict__.setdefault("_lowered", {})
        if name not in cache:
            cache[name] = str(self.value(name)).lower()
        return cache[name]


_GETTERS = {
    "channel": lambda f: f.ticket.channel, "inbox": lambda f: f.ticket.inbox, "subject": lambda f: f.ticket.subject,
    "body": lambda f: f.text, "organisation": lambda f: f.organisation, "priority": lambda f: f.ticket.priority,
    "status": lambda f: f.ticket.status, "language": lambda f: (f.ticket.meta or {}).get("language", ""),
    "business_hours": lambda f: f.business_hours,
}


def holds(condition: dict, facts: Facts) -> bool:
    return compile_condition(condition)(facts)


def compile_condition(condition: dict):
    """One condition as a function of the facts, its operand prepared once."""
    fld, op, want = condition["field"], condition["op"], condition["value"]
    if fld == "tag":
        tag, has = str(want).lower(), op == "has"
        return lambda f: (tag in f.tags) == has
    if fld not in _GETTERS:
        raise ValueError(f"unknown field {fld!r}")
    if op == "at_least":
        floor, get = int(want), _GETTERS[fld]
        return lambda f: int(get(f)) >= floor
    text = str(want).lower()
    if op == "is":
        return lambda f: f.lowered(fld) == text
    if op == "is_not":
        return lambda f: f.lowered(fld) != text
    if op == "contains":
        return lambda f: text in f.lowered(fld)
    if op == "not_contains":
        return lambda f: text not in f.lowered(fld)
    raise ValueError(f"unknown operator {op!r}")


def compiled(rule: Rule) -> tuple:
    """The rule's conditions compiled, kept on the rule object: a routing pass loads the rules
    once per batch and tests them against every event of it (an edited rule is a new object)."""
    checks = rule.__dict__.get("_checks")
    if checks is None:
        checks = rule.__dict__["_checks"] = tuple(compile_condition(c) for c in rule.conditions)
    return checks


def matches(rule: Rule, facts: Facts) -> bool:
    return all(check(facts) for check in compiled(rule))


def rule_actor(rule: Rule) -> Actor:
    return Actor(_("Rule '%(name)s'") % {"name": rule.name})


def apply(rule: Rule, ticket: Ticket) -> list[str]:
    """Take the rule's actions on the ticket through tickets.services; returns what it did, in
    words, and notes that in the timeline. The caller runs it in a savepoint: a failing action
    undoes the rule's other actions too."""
    from routing.tasks import call_webhook

    actor, done = rule_actor(rule), []
    User = get_user_model()
    for item in rule.actions:
        name, value = item["action"], item.get("value")
        ticket = Ticket.objects.select_related("customer").get(pk=ticket.pk)
        if name == "set_team":
            team = Team.objects.get(pk=value)
            services.assign(ticket, assignee=ticket.assignee, team=team, actor=actor)
            done.append(_("set team to %(v)s") % {"v": team.name})
        elif name == "assign":
            user = User.objects.get(pk=value)
            services.assign(ticket, assignee=user, actor=actor)
            done.append(_("assigned to %(v)s") % {"v": user.get_full_name() or user.get_username()})
        elif name == "auto_assign":
            services.assign(ticket, assignee=None, actor=actor)
            done.append(_("handed to automatic assignment"))
        elif name == "set_priority":
            services.set_priority(ticket, value, actor=actor)
            done.append(_("set priority to %(v)s") % {"v": Ticket.Priority(value).label})
        elif name in ("add_tags", "remove_tags"):
            current = set(ticket.tags.values_list("name", flat=True))
            wanted = current | set(value) if name == "add_tags" else current - set(value)
            services.set_tags(ticket, sorted(wanted), actor=actor)
            verb = _("added tags %(v)s") if name == "add_tags" else _("removed tags %(v)s")
            done.append(verb % {"v": ", ".join(value)})
        elif name == "reply":
            from tickets.console.compose import fill_placeholders

            canned = CannedResponse.objects.get(pk=value)
            # An automatic message (tickets.automated): it answers nobody, so it sets no first
            # response and leaves the customer waiting, as Zendesk's trigger emails do.
            identity, adapter_key = services.route_reply(ticket, None)
            services.send_automated(ticket, identity=identity, adapter_key=adapter_key, reason=automated.RULE,
                                    text=fill_placeholders(canned.body, ticket=ticket, agent=actor))
            done.append(_("replied with '%(v)s'") % {"v": canned.title})
        elif name == "note":
            services.note(ticket, author=None, text=value)
            done.append(_("added a note"))
        elif name == "notify":
            user = User.objects.get(pk=value)
            services.note_with_mentions(ticket, author=None, text=_("@%(u)s: %(r)s asks for your attention.")
                                        % {"u": user.get_username(), "r": actor.label})
            done.append(_("notified %(v)s") % {"v": user.get_username()})
        elif name == "set_status":
            services.set_status(ticket, value, actor=actor)
            done.append(_("set status to %(v)s") % {"v": Ticket.Status(value).label})
        elif name == "webhook":
            from tickets.queueing import enqueue_on_commit

            enqueue_on_commit(call_webhook, value, rule.pk, ticket.pk)
            done.append(_("called %(v)s") % {"v": value})
    if done:
        services.note(ticket, author=None, text=_("%(rule)s %(what)s.") % {"rule": actor.label, "what": "; ".join(done)})
    return done
