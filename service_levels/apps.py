from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceLevelsConfig(AppConfig):
    name = "service_levels"
    verbose_name = _("Service levels")

    def ready(self):
        from tickets import event_kinds

        event_kinds.register("sla.warning", _("An SLA target is close to its deadline (service_levels)"))
        event_kinds.register("sla.breached", _("An SLA target was missed (service_levels)"))
