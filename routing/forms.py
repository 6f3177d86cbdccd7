"""The settings screen's forms. A rule is edited as lines a team lead can read and type:

    conditions            actions
    subject contains refund       set_priority high
    channel is sms                add_tags billing, refund
    priority at_least 2           set_team Billing / assign alice / reply thanks (a shortcut)

Names are resolved to ids here, then routing.rules.validate() checks everything."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from routing import rules
from routing.models import Inbox, Rule, TeamRouting
from tickets.models import CannedResponse, Team, Ticket

PRIORITY_NAMES = {str(label).lower(): value for value, label in Ticket.Priority.choices}


def _priority(value: str):
    return PRIORITY_NAMES.get(value.strip().lower(), value.strip())


def parse_conditions(text: str) -> list[dict]:
    found = []
    for line in filter(None, (raw.strip() for raw in (text or "").splitlines())):
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise ValidationError(_("'%(line)s': write a field, an operator and a value.") % {"line": line})
        fld, op, value = parts[0].lower(), parts[1].lower(), parts[2]
        found.append({"field": fld, "op": op, "value": _priority(value) if fld == "priority" else value})
    return found


def parse_actions(text: str) -> list[dict]:
    found = []
    for line in filter(None, (raw.strip() for raw in (text or "").splitlines())):
        name, _sep, value = line.partition(" ")
        name, value = name.lower(), value.strip()
        kind = rules.ACTIONS.get(name)
        if kind == "team":
            value = Team.objects.filter(name__iexact=value).values_list("pk", flat=True).first() or value
        elif kind == "user":
            User = get_user_model()
            value = User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": value}).values_list(
                "pk", flat=True).first() or value
        elif kind == "canned":
            value = CannedResponse.objects.filter(shortcut=value.lstrip("/")).values_list("pk", flat=True).first() or value
        elif kind == "priority":
            value = _priority(value)
        found.append({"action": name, "value": value or None})
    return found


def conditions_text(conditions) -> str:
    return "\n".join(f"{c['field']} {c['op']} {c['value']}" for c in conditions)


def actions_text(actions) -> str:
    lines = []
    for a in actions:
        value = a.get("value")
        kind = rules.ACTIONS.get(a["action"])
        if kind == "team":
            value = Team.objects.filter(pk=value).values_list("name", flat=True).first() or value
        elif kind == "user":
            value = get_user_model().objects.filter(pk=value).values_list("username", flat=True).first() or value
        elif kind == "canned":
            value = CannedResponse.objects.filter(pk=value).values_list("shortcut", flat=True).first() or value
        elif kind == "tags":
            value = ", ".join(value)
        lines.append(f"{a['action']} {value}" if value not in (None, "") else a["action"])
    return "\n".join(lines)


class RuleForm(forms.ModelForm):
    conditions_text = forms.CharField(label=gettext_lazy("If (one condition per line, all must hold)"),
                                      widget=forms.Textarea(attrs={"rows": 4}), required=False)
    actions_text = forms.CharField(label=gettext_lazy("Then (one action per line)"),
                                   widget=forms.Textarea(attrs={"rows": 4}))

    class Meta:
        model = Rule
        fields = ["name", "trigger", "position", "is_active", "stop"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["conditions_text"] = conditions_text(self.instance.conditions)
            self.initial["actions_text"] = actions_text(self.instance.actions)

    def clean(self):
        data = super().clean()
        try:
            conditions = parse_conditions(data.get("conditions_text", ""))
            actions = parse_actions(data.get("actions_text", ""))
            self.instance.conditions, self.instance.actions = rules.validate(
                data.get("trigger", ""), conditions, actions)
        except ValidationError as exc:
            for message in exc.messages:
                self.add_error(None, message)
        return data


class TeamRoutingForm(forms.ModelForm):
    class Meta:
        model = TeamRouting
        fields = ["mode", "release_when_offline"]


class InboxForm(forms.ModelForm):
    class Meta:
        model = Inbox
        fields = ["key", "name", "team", "out_of_hours_reply"]
        widgets = {"out_of_hours_reply": forms.Textarea(attrs={"rows": 2, "cols": 60})}


def parse_channel_capacity(text: str) -> dict:
    """"chat=3, email=20" -> {"chat": 3, "email": 20}."""
    found = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        channel, _sep, number = item.partition("=")
        if not channel.strip() or not number.strip().isdigit():
            raise ValidationError(_("Write capacities per channel as channel=number, e.g. chat=3, email=20."))
        found[channel.strip().lower()] = int(number)
    return found
