from django.apps import AppConfig


class PreferencesConfig(AppConfig):
    name = "preferences"
    verbose_name = "Agent preferences"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from preferences import services

        # Read once at login into the session, so no console page pays a query for them. (An
        # auth signal, not domain flow: it only copies the agent's settings into their session.)
        user_logged_in.connect(services.on_login, dispatch_uid="preferences-on-login")
