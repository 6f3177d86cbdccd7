"""Satisfaction surveys: one row per ticket (the reports read these), and the team lead's
settings (one row, edited in the console)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models import Customer, Identity, Message, Team, Ticket

# Channels a survey can go out on, in the order the settings screen lists them.
SURVEY_CHANNELS = ["email", "sms", "whatsapp", "telegram", "messenger", "instagram", "chat"]


def new_nonce() -> str:
    return secrets.token_urlsafe(9)


class SurveySettings(models.Model):
    """What a team lead changes (console: Surveys settings). One row, created on first read."""

    enabled = models.BooleanField(_("send satisfaction surveys"), default=True)
    delay_minutes = models.PositiveIntegerField(_("delay after solving (minutes)"), default=60)
    cooldown_days = models.PositiveIntegerField(
        _("at most one survey per customer every (days)"), default=14)
    answer_hours = models.PositiveIntegerField(
        _("answers accepted for (hours)"), default=72,
        help_text=_("How long a reply or a link in the survey still counts as a rating."))
    channels = models.JSONField(_("channels"), default=list, blank=True,
                                help_text=_("Channels surveys go out on; empty means none."))
    excluded_teams = models.ManyToManyField(Team, blank=True, related_name="+",
                                            verbose_name=_("teams that send no surveys"))
    reopen_on_low_rating = models.BooleanField(
        _("reopen the ticket when a low rating (1-2) comes with a comment"), default=False)
    whatsapp_template = models.CharField(
        _("approved WhatsApp template for surveys outside the 24-hour window"), max_length=200, blank=True,
        help_text=_("Template id (Twilio Content SID, or the Cloud API template name). Empty: skip."))

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> SurveySettings:
        found = cls.objects.filter(pk=1).first()
        return found or cls.objects.get_or_create(pk=1, defaults={"channels": list(SURVEY_CHANNELS)})[0]


class Survey(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled (the ticket reopened)")
        SKIPPED = "skipped", _("Skipped")
        SENT = "sent", _("Sent")
        ANSWERED = "answered", _("Answered")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="survey")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="surveys", db_index=False)
    identity = models.ForeignKey(Identity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("channel"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.SCHEDULED)
    skip_reason = models.TextField(_("why it was not sent"), blank=True)
    language = models.CharField(max_length=16, blank=True)
    # Bumped on each (re)schedule: a queued send for an older solve finds it changed and stops.
    generation = models.PositiveIntegerField(default=0)
    # In every link; a new one for every send, so an older survey's links stop working.
    nonce = models.CharField(max_length=16, default=new_nonce)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rating = models.PositiveSmallIntegerField(_("rating (1-5)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # The ticket's assignee when the rating was given: whom reports credit it to.
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("agent rated"))
    # Set when the customer finished (sent the comment form): the link is used up.
    closed_at = models.DateTimeField(null=True, blank=True)
    # Every replaced answer: [{"rating", "comment", "at", "via"}], oldest first (the audit).
    history = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        indexes = [
            models.Index(fields=["customer", "sent_at"], name="survey_customer_sent_idx"),
            models.Index(fields=["identity", "status"], name="survey_identity_idx"),
            # Reports read answered surveys by period.
            models.Index(fields=["answered_at"], name="survey_answered_idx"),
            # ... and sent surveys by period (the response rate).
            models.Index(fields=["sent_at"], name="survey_sent_idx"),
        ]

    def __str__(self):
        return f"survey for #{self.ticket_id} ({self.status})"

    @property
    def is_low(self) -> bool:
        return self.rating is not None and self.rating <= 2
