"""Service levels: business-hours schedules, SLA policies, and the durable per-ticket metrics.

`tickets` never imports this app. Its rows are written by service_levels.services (settings
screens), service_levels.hooks (metrics, inside the transaction that records the events) and
service_levels.tasks (warnings and breaches)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from service_levels.hours import BusinessHours, Holiday
from tickets.models import Tag, Team, Ticket


class Schedule(models.Model):
    """Open hours in one IANA time zone. `intervals`: [[weekday (0 = Monday), start minute,
    end minute], ...], an end not after the start crossing midnight; `holidays`:
    [{"start": "2026-12-25", "end": "2026-12-26", "yearly": false, "name": "..."}]."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    intervals = models.JSONField(_("weekly hours"), default=list)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    is_default = models.BooleanField(_("default schedule"), default=False)
    # A team works its own hours; a ticket of that team uses them unless its policy names one.
    teams = models.ManyToManyField(Team, blank=True, related_name="+", verbose_name=_("teams"))
    # Inboxes working these hours, by the key tickets record (Ticket.inbox, e.g.
    # "email:support@x.test"; routing's Inbox rows name them). Before the team's schedule.
    inboxes = models.JSONField(_("inboxes"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business-hours schedule")
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                               name="schedule_one_default")]

    def __str__(self):
        return self.name

    def hours(self) -> BusinessHours:
        from datetime import date

        return BusinessHours(self.timezone, [tuple(i) for i in self.intervals],
                             [Holiday(date.fromisoformat(h["start"]), date.fromisoformat(h.get("end") or h["start"]),
                                      bool(h.get("yearly")), h.get("name", "")) for h in self.holidays])


class Policy(models.Model):
    """Targets for the tickets it matches. Policies are tried by `position`; the first whose
    every non-empty condition holds applies. Targets are minutes; empty = no such target."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # Conditions: each a list, any of which matches; an empty list matches everything.
    channels = models.JSONField(_("channels"), default=list, blank=True)
    priorities = models.JSONField(_("priorities"), default=list, blank=True)
    teams = models.ManyToManyField(Team, blank=True, related_name="+", verbose_name=_("teams"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="+", verbose_name=_("tags"))
    organisations = models.JSONField(_("customer organisations"), default=list, blank=True)
    first_reply_minutes = models.PositiveIntegerField(_("first reply (minutes)"), null=True, blank=True)
    first_reply_business = models.BooleanField(_("first reply in business hours"), default=True)
    next_reply_minutes = models.PositiveIntegerField(_("next reply (minutes)"), null=True, blank=True)
    next_reply_business = models.BooleanField(_("next reply in business hours"), default=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), null=True, blank=True)
    resolution_business = models.BooleanField(_("resolution in business hours"), default=True)
    warn_percent = models.PositiveSmallIntegerField(_("warn at (% of target)"), default=80)
    # Empty: the ticket's team's schedule, else the default schedule.
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 verbose_name=_("schedule"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self):
        return self.name


class ConfigVersion(models.Model):
    """One row, set to a new random value by every change to schedules or policies: each
    process caches the configuration and re-reads it only when this changed (one indexed read
    per change). Random, not a counter: a rolled-back change must not leave a number that a
    later, different configuration reuses."""

    value = models.BigIntegerField(default=0)

    def __str__(self):
        return str(self.value)


class TicketMetrics(models.Model):
    """What happened to one ticket, written in the same transaction as the change that moved
    it (service_levels.hooks) and recomputable from messages and events
    (`manage.py rebuild_ticket_metrics`). Reports read this, never the (pruned) event log."""

    ticket = models.OneToOneField(Ticket, primary_key=True, on_delete=models.CASCADE, related_name="sla_metrics")
    # No database constraint: a policy deleted while a change is in flight must not fail that
    # change at commit (a deferred foreign-key check would lose the customer's message).
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
                               db_constraint=False)
    policy_name = models.CharField(max_length=100, blank=True)
    first_reply_at = models.DateTimeField(null=True, blank=True)
    first_reply_seconds = models.FloatField(null=True, blank=True)
    first_reply_business_seconds = models.FloatField(null=True, blank=True)
    # [[calendar seconds, business seconds], ...], one per next reply.
    next_replies = models.JSONField(default=list)
    solved_at = models.DateTimeField(null=True, blank=True)  # the latest solve
    solves = models.JSONField(default=list)  # every solve (ISO times)
    reopens = models.PositiveIntegerField(default=0)
    resolution_seconds = models.FloatField(null=True, blank=True)  # open time (pending/solved excluded)
    resolution_business_seconds = models.FloatField(null=True, blank=True)
    # Zendesk's full resolution time: creation to the latest solve (pending and reopened time included).
    full_resolution_seconds = models.FloatField(null=True, blank=True)
    full_resolution_business_seconds = models.FloatField(null=True, blank=True)
    # The agent who sent the first counted public reply: reports attribute the ticket to them
    # (not to whoever is assigned today). No constraint, like `policy`: a deleted user must
    # not fail a customer's change at commit.
    first_reply_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                                       related_name="+", db_constraint=False)
    public_replies = models.PositiveIntegerField(default=0)
    customer_messages = models.PositiveIntegerField(default=0)
    agent_touches = models.PositiveIntegerField(default=0)
    # Each target: {"key", "kind", "start", "due", "warn", "business", "minutes", "state",
    # "met_at", "elapsed", "over"}; see service_levels.clock.
    targets = models.JSONField(default=list)
    # "kind:state" of each achieved or breached target, space-separated (reports read this).
    sla_outcomes = models.TextField(blank=True, default="")
    # Status changes as the events recorded them ([[iso time, status], ...]): what pauses and
    # resumes resolution, kept here because the event log is pruned.
    status_log = models.JSONField(default=list)
    # Since when the customer waits for a reply (the open first/next-reply cycle), else None.
    awaiting_since = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)  # the next warning or breach moment
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ticket metrics")
        verbose_name_plural = _("ticket metrics")
        indexes = [models.Index(fields=["next_due_at"], name="sla_next_due_idx",
                                condition=Q(next_due_at__isnull=False)),
                   models.Index(fields=["next_check_at"], name="sla_next_check_idx",
                                condition=Q(next_check_at__isnull=False)),
                   # Reports read the tickets solved in a period.
                   models.Index(fields=["solved_at"], name="sla_solved_idx", condition=Q(solved_at__isnull=False))]

    def __str__(self):
        return f"metrics of ticket {self.ticket_id}"


class Wakeup(models.Model):
    """One row: the moment the next sweep task is enqueued for. A change whose next warning or
    breach comes earlier enqueues an earlier sweep (and moves this); any other change enqueues
    nothing, so ingest rarely writes a task."""

    at = models.DateTimeField(null=True)

    def __str__(self):
        return str(self.at)


class Alert(models.Model):
    """A warning or a breach of one target, recorded once (the unique constraint makes two
    workers agree), with the event that announced it."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning")
        BREACH = "breach", _("Breach")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=64)  # the target's key: kind and start
    kind = models.CharField(max_length=16, choices=Kind)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("SLA alert")
        constraints = [models.UniqueConstraint(fields=["ticket", "target", "kind"], name="sla_alert_once")]

    def __str__(self):
        return f"{self.kind} {self.target} on {self.ticket_id}"
