"""The settings screen's forms. Weekly hours and holidays are typed one per line, the way a
team lead writes them down ("Mon-Fri 09:00-17:30", "2026-12-24..2026-12-26 Christmas",
"yearly 01-01 New Year"), and every mistake is reported with its line."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from service_levels import services
from service_levels.models import Policy, Schedule
from service_levels.services import DAYS, hhmm
from tickets.models import Tag, Team, Ticket

DAY = r"(mon|tue|wed|thu|fri|sat|sun)[a-z]*"
HOURS_LINE = re.compile(rf"^{DAY}(?:\s*-\s*{DAY})?\s+(\d{{1,2}}):(\d{{2}})\s*-\s*(\d{{1,2}}):(\d{{2}})$", re.I)
HOLIDAY_LINE = re.compile(r"^(yearly\s+)?(\d{4}-)?(\d{2}-\d{2})(?:\s*\.\.\s*(\d{4}-)?(\d{2}-\d{2}))?(?:\s+(.*))?$", re.I)


def parse_hours(text: str) -> list[list[int]]:
    intervals = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = HOURS_LINE.match(line)
        if not match:
            raise ValidationError(_("Line %(n)d: “%(line)s” is not like “Mon-Fri 09:00-17:30”.") % {"n": number, "line": line})
        first, last, h1, m1, h2, m2 = match.groups()
        start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
        if int(m1) > 59 or int(m2) > 59 or start >= 1440 or end > 1440:
            raise ValidationError(_("Line %(n)d: %(line)s is not a time of day.") % {"n": number, "line": line})
        a, b = DAYS.index(first[:3].lower()), DAYS.index((last or first)[:3].lower())
        days = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
        intervals += [[day, start, end] for day in days]
    return services.validate_intervals(intervals)


def format_hours(intervals) -> str:
    return "\n".join(f"{DAYS[d].title()} {hhmm(s)}-{hhmm(e)}" for d, s, e in intervals)


def parse_holidays(text: str) -> list[dict]:
    holidays = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = HOLIDAY_LINE.match(line)
        try:
            if not match:
                raise ValueError(line)
            yearly, year1, md1, year2, md2, name = match.groups()
            if not yearly and not year1:
                raise ValueError(line)
            start = date.fromisoformat(f"{(year1 or '2000-')}{md1}")
            end = date.fromisoformat(f"{(year2 or year1 or '2000-')}{md2 or md1}")
        except ValueError:
            raise ValidationError(_("Line %(n)d: “%(line)s” is not like “2026-12-25 Christmas”, "
                                    "“2026-12-24..2026-12-26” or “yearly 01-01 New Year”.")
                                  % {"n": number, "line": line}) from None
        if end < start and not yearly:
            raise ValidationError(_("Line %(n)d: the range ends before it starts.") % {"n": number})
        holidays.append({"start": start.isoformat(), "end": end.isoformat(), "yearly": bool(yearly),
                         "name": (name or "").strip()})
    return holidays


def format_holidays(holidays) -> str:
    lines = []
    for h in holidays:
        start, end = (h["start"][5:], h["end"][5:]) if h.get("yearly") else (h["start"], h["end"])
        span = start if start == end else f"{start}..{end}"
        lines.append(" ".join(filter(None, ["yearly" if h.get("yearly") else "", span, h.get("name", "")])))
    return "\n".join(lines)


class ScheduleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    timezone = forms.CharField(label=gettext_lazy("Time zone"), max_length=64, initial="UTC",
                               help_text=gettext_lazy("An IANA name, e.g. Europe/London."))
    hours = forms.CharField(label=gettext_lazy("Weekly hours"), widget=forms.Textarea(attrs={"rows": 7}),
                            help_text=gettext_lazy("One interval per line: “Mon-Fri 09:00-17:30”. An end before "
                                                   "the start crosses midnight: “Fri 22:00-02:00”."))
    holidays = forms.CharField(label=gettext_lazy("Holidays"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
                               help_text=gettext_lazy("One per line: “2026-12-25 Christmas”, "
                                                      "“2026-12-24..2026-12-26”, “yearly 01-01 New Year”."))
    is_default = forms.BooleanField(label=gettext_lazy("Default schedule"), required=False)
    teams = forms.ModelMultipleChoiceField(label=gettext_lazy("Teams working these hours"), required=False,
                                           queryset=Team.objects.all())
    inboxes = forms.MultipleChoiceField(label=gettext_lazy("Inboxes working these hours"), required=False,
                                        help_text=gettext_lazy("Before the team's schedule: a ticket works to its "
                                                               "inbox's hours, else its team's, else the default."))

    def __init__(self, *args, instance: Schedule | None = None, **kwargs):
        self.instance = instance
        if instance is not None and not kwargs.get("data") and not args:
            kwargs["initial"] = {"name": instance.name, "timezone": instance.timezone,
                                 "hours": format_hours(instance.intervals),
                                 "holidays": format_holidays(instance.holidays),
                                 "is_default": instance.is_default, "teams": list(instance.teams.all()),
                                 "inboxes": list(instance.inboxes)}
        super().__init__(*args, **kwargs)
        self.fields["inboxes"].choices = inbox_choices(instance.inboxes if instance else ())

    def clean_inboxes(self):
        return services.validate_inboxes(self.cleaned_data["inboxes"], self.instance)

    def clean_timezone(self):
        return services.validate_timezone(self.cleaned_data["timezone"].strip())

    def clean_hours(self):
        return parse_hours(self.cleaned_data["hours"])

    def clean_holidays(self):
        return parse_holidays(self.cleaned_data["holidays"])

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Schedule.objects.filter(name=name).exclude(pk=getattr(self.instance, "pk", None)).exists():
            raise ValidationError(_("A schedule with this name exists."))
        return name

    def save(self) -> Schedule:
        data = self.cleaned_data
        return services.save_schedule(self.instance, name=data["name"], timezone=data["timezone"],
                                      intervals=data["hours"], holidays=data["holidays"],
                                      is_default=data["is_default"], teams=data["teams"],
                                      inboxes=data["inboxes"])


def inbox_choices(current=()) -> list[tuple[str, str]]:
    """The inboxes routing knows (its Inbox rows, when the app is installed), and any key this
    schedule already lists: (key, "name (key)")."""
    choices = {}
    if apps.is_installed("routing"):
        for key, name in apps.get_model("routing", "Inbox").objects.values_list("key", "name"):
            choices[key] = f"{name} ({key})"
    for key in current:
        choices.setdefault(key, key)
    return sorted(choices.items(), key=lambda item: item[1].lower())


def _words(text: str) -> list[str]:
    return [w.strip() for w in (text or "").split(",") if w.strip()]


class PolicyForm(forms.ModelForm):
    channels = forms.CharField(label=gettext_lazy("Channels"), required=False,
                               help_text=gettext_lazy("Comma-separated (email, sms, chat...); empty: any."))
    priorities = forms.TypedMultipleChoiceField(label=gettext_lazy("Priorities"), required=False, coerce=int,
                                                choices=Ticket.Priority.choices, widget=forms.CheckboxSelectMultiple)
    organisations = forms.CharField(label=gettext_lazy("Customer organisations"), required=False,
                                    help_text=gettext_lazy("Comma-separated; empty: any."))
    teams = forms.ModelMultipleChoiceField(label=gettext_lazy("Teams"), required=False, queryset=Team.objects.all())
    tags = forms.ModelMultipleChoiceField(label=gettext_lazy("Tags"), required=False, queryset=Tag.objects.all())

    class Meta:
        model = Policy
        fields = ["name", "is_active", "channels", "priorities", "teams", "tags", "organisations",
                  "first_reply_minutes", "first_reply_business", "next_reply_minutes", "next_reply_business",
                  "resolution_minutes", "resolution_business", "warn_percent", "schedule"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["channels"] = ", ".join(self.instance.channels)
            self.initial["organisations"] = ", ".join(self.instance.organisations)

    def clean_channels(self):
        return _words(self.cleaned_data["channels"])

    def clean_organisations(self):
        return _words(self.cleaned_data["organisations"])

    def clean_warn_percent(self):
        value = self.cleaned_data["warn_percent"]
        if not 1 <= value <= 100:
            raise ValidationError(_("Warn between 1 and 100 % of the target."))
        return value

    def clean(self):
        data = super().clean()
        for kind in ("first_reply", "next_reply", "resolution"):
            if data.get(f"{kind}_minutes") == 0:
                self.add_error(f"{kind}_minutes", _("A target of zero cannot be met; leave it empty for none."))
        if not any(data.get(f"{k}_minutes") for k in ("first_reply", "next_reply", "resolution")):
            raise ValidationError(_("Set at least one target."))
        return data

    def save(self, commit=True) -> Policy:
        data = dict(self.cleaned_data)
        teams, tags = data.pop("teams"), data.pop("tags")
        return services.save_policy(self.instance if self.instance.pk else None, teams=teams, tags=tags, **data)
