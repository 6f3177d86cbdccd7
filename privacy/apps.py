from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Data rights on top of `tickets`: export, audited erasure, retention. `tickets` never
    imports this app; it writes domain rows only through tickets.services (erasure, retention)."""

    name = "privacy"
    verbose_name = _("Privacy")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from privacy import checks  # noqa: F401  (registers the providers check)
