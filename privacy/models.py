"""The audit trail of data-rights actions, and the daily retention run's schedule."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PrivacyRequest(models.Model):
    """One export or erasure. It keeps no personal data: the customer's number (after an erasure
    the row it names is anonymised), who did it, how, when, and counts of what was done."""

    class Action(models.TextChoices):
        EXPORT = "export", _("Export")
        ERASE = "erase", _("Erasure")

    class Via(models.TextChoices):
        CONSOLE = "console", _("Console")
        API = "api", _("REST API")
        COMMAND = "command", _("Command")

    action = models.CharField(_("action"), max_length=16, choices=Action)
    # A number, not a foreign key: the audit record outlives whatever happens to the row.
    customer_id = models.BigIntegerField(_("customer"), db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("by"))
    via = models.CharField(_("via"), max_length=16, choices=Via)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)
    # Counts only: {"messages": 12, "attachments": 2, ..., "providers": {"livechat": 1}}.
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        verbose_name = _("privacy request")
        ordering = ["-created_at"]
        permissions = [
            ("export_customer", _("Can export a customer's data")),
            ("erase_customer", _("Can erase a customer")),
        ]

    def __str__(self):
        return f"{self.get_action_display()} customer {self.customer_id}"


class RetentionSchedule(models.Model):
    """One row: the daily retention task that is allowed to run next. A task whose id is not
    `task_id` is a duplicate (two servers started, a task enqueued twice) and does nothing."""

    task_id = models.CharField(max_length=64, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("retention schedule")

    def __str__(self):
        return f"next retention run {self.next_run_at}"
