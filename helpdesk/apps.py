from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self):
        # django.contrib.admin (earlier in INSTALLED_APPS) has imported every admin module by now.
        from helpdesk import admin_site

        admin_site.configure()
