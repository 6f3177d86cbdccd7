from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Satisfaction surveys")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tickets import event_kinds

        event_kinds.register("csat.sent", _("A satisfaction survey was sent to the customer"))
        event_kinds.register("csat.skipped", _("A satisfaction survey was not sent (the reason is in the data)"))
        event_kinds.register("csat.rated", _("A customer rated a solved ticket (1-5, with any comment)"))
