"""Each agent's own console settings (issue 17): the time zone and language the console shows
dates and text in. Blank means "the browser's" (the zone time.js reports, the language the
browser asks for)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AgentPreferences(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="console_preferences")
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("agent preferences")
        verbose_name_plural = _("agent preferences")

    def __str__(self):
        return str(self.user)
