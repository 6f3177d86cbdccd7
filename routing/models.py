"""Routing's own rows: inboxes, agents' availability and capacity, each team's assignment mode,
rules and macros. They point at `tickets`; `tickets` never knows they exist."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models import Team, Ticket


class Inbox(models.Model):
    """A way in: a support address, a Twilio number, a WhatsApp sender, a Meta page, a Telegram
    bot, a chat inbox. `key` is what tickets record (tickets.channels.inbox_key): a bare channel
    name ("email") is that channel's default inbox."""

    key = models.CharField(_("key"), max_length=200, unique=True,
                           help_text=_('"email:support@example.com", "sms:+14155550100", "chat:demo", or a '
                                       'bare channel ("email") for that channel\'s default inbox'))
    name = models.CharField(_("name"), max_length=100)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("team"), help_text=_("New tickets from this inbox go to this team."))
    out_of_hours_reply = models.TextField(
        _("out-of-hours auto-reply"), blank=True, max_length=2000,
        help_text=_("Sent once per conversation to a customer who writes while this inbox is closed "
                    "(business hours of the inbox's team, else the default schedule). Empty: none."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("inbox")
        verbose_name_plural = _("inboxes")

    def __str__(self):
        return self.name


class AgentStatus(models.Model):
    """What an agent chose (online / away) and how much they can take. Whether they are really
    there comes from their open consoles (tickets.AgentPresence): see routing.availability."""

    class Status(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routing_status")
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.ONLINE)
    last_active_at = models.DateTimeField(_("last active"), null=True, blank=True)
    # Empty: no limit. Per channel, e.g. {"chat": 3, "email": 20}; both limits apply.
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True,
                                           help_text=_("Open conversations at once (empty: no limit)."))
    channel_capacity = models.JSONField(_("capacity per channel"), default=dict, blank=True)

    class Meta:
        verbose_name = _("agent status")
        verbose_name_plural = _("agent statuses")

    def __str__(self):
        return f"{self.user} ({self.status})"


class TeamRouting(models.Model):
    class Mode(models.TextChoices):
        OFF = "off", _("Off")
        ROUND_ROBIN = "round_robin", _("Round-robin")
        LEAST_LOADED = "least_loaded", _("Least loaded")

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="routing")
    mode = models.CharField(_("automatic assignment"), max_length=16, choices=Mode, default=Mode.OFF)
    release_when_offline = models.BooleanField(
        _("return an offline agent's tickets to the pool"), default=False,
        help_text=_("When a member goes offline, their new and open tickets of this team are unassigned "
                    "and assigned again."))
    # Round-robin's place: the agent who got the last ticket.
    last_assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("team routing")

    def __str__(self):
        return f"{self.team}: {self.mode}"


class RoutingState(models.Model):
    """One row. Its lock serialises assignment (whoever holds it sees every agent's committed
    load, so nobody goes over capacity), and `last_seq` is how far the rules have read the log."""

    last_seq = models.BigIntegerField(default=0)

    def __str__(self):
        return str(self.last_seq)


class Rule(models.Model):
    class Trigger(models.TextChoices):
        CREATED = "created", _("Ticket created")
        CUSTOMER_REPLIED = "customer_replied", _("Customer replied")
        STATUS_CHANGED = "status_changed", _("Status changed")
        SLA_WARNING = "sla_warning", _("An SLA warning fires")

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(_("when"), max_length=20, choices=Trigger, default=Trigger.CREATED)
    # [{"field": "channel", "op": "is", "value": "email"}, ...]: all must hold (routing.rules).
    conditions = models.JSONField(_("if"), default=list, blank=True)
    # [{"action": "set_priority", "value": 2}, ...], in order.
    actions = models.JSONField(_("then"), default=list)
    stop = models.BooleanField(_("stop after this rule"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("rule")

    def __str__(self):
        return self.name


class Macro(models.Model):
    """A named bundle of actions an agent applies by hand: personal (owner) or a team's."""

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+", help_text=_("Empty: shared (or the team's)."))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    shortcut = models.CharField(_("keyboard shortcut"), max_length=1, blank=True,
                                help_text=_("One digit from 1 to 9: Alt and that digit apply it on a ticket."))
    reply = models.TextField(_("reply"), blank=True, help_text=_("Placeholders: {customer_name}, "
                             "{customer_first_name}, {agent_name}, {ticket_id}, {ticket_subject}"))
    status = models.CharField(_("status"), max_length=16, choices=Ticket.Status, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Ticket.Priority, null=True, blank=True)
    add_tags = models.CharField(_("add tags"), max_length=300, blank=True)
    remove_tags = models.CharField(_("remove tags"), max_length=300, blank=True)
    assign_to_me = models.BooleanField(_("assign to me"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("macro")

    def __str__(self):
        return self.name


class Snooze(models.Model):
    """A ticket set aside until a time: pending now, reopened by the worker then (unless the
    customer wrote first, which reopens it anyway)."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField(_("until"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("snooze")

    def __str__(self):
        return f"#{self.ticket_id} until {self.until}"
