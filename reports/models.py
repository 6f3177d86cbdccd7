"""Reports own no data: they read tickets, service_levels.TicketMetrics and surveys.Survey.
The one model here only carries the "view reports" permission (reports.view_reports)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    class Meta:
        # A table that stays empty: apps that walk every model (privacy's erasure) can read it.
        default_permissions = ()
        permissions = [("view_reports", _("Can view reports"))]
        verbose_name = _("report")

    def __str__(self):
        return str(self._meta.verbose_name)
