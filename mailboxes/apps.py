from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailboxesConfig(AppConfig):
    name = "mailboxes"
    verbose_name = _("Mailboxes (IMAP/SMTP)")
    default_auto_field = "django.db.models.BigAutoField"
