"""The settings screen's forms. A rule is edited as lines a team lead can read and type:

    conditions            actions
    subject contains refund       set_priority high
    channel is sms                add_tags billing, refund
    priority at_least 2           set_team Billing / assign alice / reply thanks (a shortcut)

Names are resolved to ids here, then routing.rules.validate() checks everything."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from routing import rules
from routing.models import Inbox, Macro, Rule, TeamRouting
from tickets.console.compose import PLACEHOLDER_NAMES
from tickets.models import CannedResponse, Team, Ticket

PLACEHOLDERS = frozenset(PLACEHOLDER_NAMES)

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


_ANY_PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")


class MacroForm(forms.ModelForm):
    """A macro as an agent edits it in the console. Whoever may not edit shared macros
    (routing.change_macro) edits personal ones only: the owner is forced to them."""

    class Meta:
        model = Macro
        fields = ["name", "shortcut", "reply", "status", "priority", "add_tags", "remove_tags", "assign_to_me", "team"]
        widgets = {"reply": forms.Textarea(attrs={"rows": 5, "cols": 60})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.may_share = user.has_perm("routing.change_macro")
        self.fields["scope"] = forms.ChoiceField(
            label=gettext_lazy("Who can use it"),
            choices=[("personal", gettext_lazy("Only me")), ("shared", gettext_lazy("Everyone (or the team below)"))]
            if self.may_share else [("personal", gettext_lazy("Only me"))],
            initial="shared" if self.instance.pk and self.instance.owner_id is None else "personal")
        if not self.may_share:
            del self.fields["team"]

    def clean_shortcut(self):
        shortcut = self.cleaned_data.get("shortcut", "").strip()
        if shortcut and not (len(shortcut) == 1 and shortcut in "123456789"):
            raise ValidationError(_("The shortcut is one digit from 1 to 9 (Alt+digit on a ticket)."))
        return shortcut

    def clean_reply(self):
        reply = self.cleaned_data.get("reply", "")
        unknown = sorted({m.group(1) for m in _ANY_PLACEHOLDER.finditer(reply)} - PLACEHOLDERS)
        if unknown:
            raise ValidationError(_("Unknown placeholder %(p)s; use %(known)s.") % {
                "p": ", ".join("{" + u + "}" for u in unknown), "known": ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))})
        return reply

    def clean(self):
        data = super().clean()
        shared = self.may_share and data.get("scope") == "shared"
        self.instance.owner = None if shared else (self.instance.owner if self.instance.owner_id else self.user)
        if not shared:
            self.instance.team = None
        if not any([data.get("reply", "").strip(), data.get("status"), data.get("priority") is not None,
                    data.get("add_tags", "").strip(), data.get("remove_tags", "").strip(), data.get("assign_to_me")]):
            self.add_error(None, _("A macro must do something: a reply, a status, a priority, tags or assign to me."))
        shortcut = data.get("shortcut")
        if shortcut:
            from routing.macros import available

            clash = available(self.instance.owner or self.user).filter(shortcut=shortcut).exclude(pk=self.instance.pk)
            if not shared and clash.exists():
                self.add_error("shortcut", _("Alt+%(d)s already applies '%(name)s'.") % {"d": shortcut,
                                                                                    "name": clash.first().name})
            elif shared and Macro.objects.filter(owner__isnull=True, team=data.get("team"), shortcut=shortcut
                                                 ).exclude(pk=self.instance.pk).exists():
                self.add_error("shortcut", _("Another shared macro already uses Alt+%(d)s.") % {"d": shortcut})
        return data
