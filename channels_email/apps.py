from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsEmailConfig(AppConfig):
    name = "channels_email"
    verbose_name = _("Email channel")
    default_auto_field = "django.db.models.BigAutoField"
