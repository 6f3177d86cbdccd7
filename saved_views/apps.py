from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SavedViewsConfig(AppConfig):
    """Queue views agents save from their filters: personal, or shared with everyone by a team
    lead. The queue finds them through settings.HELPDESK_QUEUE_VIEW_SOURCES."""

    name = "saved_views"
    verbose_name = _("Saved views")
    default_auto_field = "django.db.models.BigAutoField"
