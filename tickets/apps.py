from django.apps import AppConfig
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _


def _reset_adapters(setting, **kwargs):
    if setting == "HELPDESK_CHANNELS":
        from tickets.channels import clear_adapter_cache

        clear_adapter_cache()


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self):
        # Tests override HELPDESK_CHANNELS; adapters are cached instances, so drop them then.
        setting_changed.connect(_reset_adapters)
        # SQLite drops a table's triggers when a migration remakes it: put the search ones back.
        from django.db.models.signals import post_migrate

        from tickets.search import ensure_index

        post_migrate.connect(ensure_index, sender=self)
        # The services queue background jobs by name; loading the tasks registers them.
        import tickets.tasks  # noqa: F401
