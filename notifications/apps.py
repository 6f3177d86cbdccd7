from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """An agent's notifications: mentions, assignments, customer replies on their tickets, SLA
    warnings and breaches, low satisfaction ratings. Built from the event log after commit
    (settings.HELPDESK_EVENT_SINKS); tickets never imports this app."""

    name = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"
