from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedView(models.Model):
    """A named set of queue filters (tickets.console.filters.QueueFilter.params()). Personal
    views are their owner's alone; shared ones appear in every agent's sidebar (each agent
    still counts and sees only the tickets tickets.policy lets them see)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("name"), max_length=80)
    shared = models.BooleanField(_("shared with every agent"), default=False)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("saved view")
        ordering = ["name", "pk"]
        permissions = [("share_savedview", _("Can share saved views with every agent (team leads)"))]
        indexes = [models.Index(fields=["shared"], name="savedview_shared_idx", condition=models.Q(shared=True))]

    def __str__(self):
        return self.name
