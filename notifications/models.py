"""One row per thing an agent should know about. It names the ticket (and the message, when
there is one) instead of copying text: what the list shows is read from them when shown, so an
erased customer's words do not live on here and a ticket moved out of the agent's teams drops
out of the list (tickets.policy decides at read time)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        MENTION = "mention", _("Mentioned you")
        ASSIGNED = "assigned", _("Assigned to you")
        REPLY = "reply", _("Customer replied")
        SLA_WARNING = "sla_warning", _("SLA deadline close")
        SLA_BREACHED = "sla_breached", _("SLA deadline missed")
        LOW_CSAT = "low_csat", _("Low satisfaction rating")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_notifications",
                             db_index=False)  # the (user, read_at) index leads with it
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # The event it came from: one notification per agent per event, however often the sink runs.
    seq = models.BigIntegerField(_("event"))
    actor = models.CharField(_("by"), max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)  # SLA target and deadline, rating: no personal data
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        constraints = [models.UniqueConstraint(fields=["user", "seq"], name="notification_once_per_event")]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox_idx"),
            models.Index(fields=["read_at"], name="notification_read_idx", condition=models.Q(read_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.ticket_id} -> {self.user_id}"
