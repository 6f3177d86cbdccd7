from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsEmailConfig(AppConfig):
    name = "channels_email"
    verbose_name = _("Email channel")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from channels_email.acks import queue_acknowledgement
        from tickets.services import acknowledgements

        acknowledgements.register("email", queue_acknowledgement)
