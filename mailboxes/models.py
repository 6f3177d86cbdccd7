"""A support address read over IMAP and answered over SMTP (or the configured mailer).

Sync state is kept per folder and UIDVALIDITY epoch; every imported mail leaves an ImportedMail
row, committed with its stored payload before the server is told anything (flag or move), so
a crash anywhere re-imports at most into ingest's idempotency, never loses."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mailboxes import crypto
from tickets.models import InboundPayload, Team


class Mailbox(models.Model):
    class Security(models.TextChoices):
        SSL = "ssl", _("TLS (implicit, port 993 / 465)")
        STARTTLS = "starttls", _("STARTTLS (port 143 / 587)")
        NONE = "none", _("None (local test servers only)")

    class Auth(models.TextChoices):
        PASSWORD = "password", _("Password")
        GOOGLE = "google", _("Google (OAuth2)")
        MICROSOFT = "microsoft", _("Microsoft 365 (OAuth2)")

    class AfterImport(models.TextChoices):
        SEEN = "seen", _("Mark as read")
        MOVE = "move", _("Move to a folder")
        LEAVE = "leave", _("Leave as it is")

    class Outgoing(models.TextChoices):
        MAILER = "mailer", _("The helpdesk's configured mailer (ESP or SMTP)")
        SMTP = "smtp", _("This mailbox's SMTP server")

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("support address"), unique=True,
                                help_text=_("Customers write here; replies come from here."))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("team"), help_text=_("New tickets from this mailbox go to this team."))
    enabled = models.BooleanField(_("enabled"), default=True)

    imap_host = models.CharField(_("IMAP host"), max_length=255)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(_("IMAP security"), max_length=16, choices=Security, default=Security.SSL)
    username = models.CharField(_("user name"), max_length=255)
    auth = models.CharField(_("sign-in"), max_length=16, choices=Auth, default=Auth.PASSWORD)
    # Encrypted (crypto.py); never rendered back into a form.
    password_encrypted = models.TextField(blank=True, editable=False)
    oauth_refresh_encrypted = models.TextField(blank=True, editable=False)
    oauth_access_encrypted = models.TextField(blank=True, editable=False)
    oauth_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    after_import = models.CharField(_("after import"), max_length=16, choices=AfterImport,
                                    default=AfterImport.SEEN)
    move_to = models.CharField(_("move to folder"), max_length=255, blank=True)
    import_since = models.DateField(_("import mail since"), null=True, blank=True,
                                    help_text=_("First sync only: older mail stays on the server."))

    outgoing = models.CharField(_("replies go out through"), max_length=16, choices=Outgoing,
                                default=Outgoing.MAILER)
    smtp_host = models.CharField(_("SMTP host"), max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(_("SMTP security"), max_length=16, choices=Security,
                                     default=Security.STARTTLS)
    smtp_username = models.CharField(_("SMTP user name"), max_length=255, blank=True,
                                     help_text=_("Empty: the IMAP user name."))
    smtp_password_encrypted = models.TextField(blank=True, editable=False)

    # Health and scheduling (written by the runner only).
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    failures = models.PositiveIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The lease: only its holder imports this mailbox (several runner processes in scaled mode).
    lease_owner = models.CharField(max_length=64, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} <{self.address}>"

    # Secrets: write-only properties over the encrypted columns.
    def set_password(self, value: str) -> None:
        self.password_encrypted = crypto.encrypt(value)

    def get_password(self) -> str:
        return crypto.decrypt(self.password_encrypted)

    def set_smtp_password(self, value: str) -> None:
        self.smtp_password_encrypted = crypto.encrypt(value)

    def get_smtp_password(self) -> str:
        return crypto.decrypt(self.smtp_password_encrypted) if self.smtp_password_encrypted else self.get_password()

    @property
    def uses_oauth(self) -> bool:
        return self.auth in (self.Auth.GOOGLE, self.Auth.MICROSOFT)

    @property
    def has_secret(self) -> bool:
        return bool(self.oauth_refresh_encrypted if self.uses_oauth else self.password_encrypted)


class MailboxFolder(models.Model):
    """Where the sync stands in one folder: the UIDVALIDITY epoch and the highest UID imported."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=255)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "name"], name="mailbox_folder_unique")]

    def __str__(self):
        return f"{self.mailbox_id}:{self.name} {self.uidvalidity}/{self.last_uid}"


class ImportedMail(models.Model):
    """One server mail we have stored. Unique per (mailbox, folder, UIDVALIDITY, UID): two
    runners racing for the same mail cannot both commit it. `server_done` is set once the
    after-import action (flag/move) succeeded; until then the next run retries it."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="imported")
    folder = models.CharField(max_length=255)
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    message_id = models.CharField(max_length=255, blank=True)
    payload = models.ForeignKey(InboundPayload, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    server_done = models.BooleanField(default=False)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "folder", "uidvalidity", "uid"],
                                               name="imported_mail_unique_uid")]
        indexes = [
            models.Index(fields=["mailbox", "message_id"], name="imported_mail_msgid_idx"),
            models.Index(fields=["mailbox", "imported_at"], name="imported_mail_day_idx"),
            models.Index(fields=["mailbox", "server_done"], name="imported_mail_pending_idx",
                         condition=models.Q(server_done=False)),
        ]

    def __str__(self):
        return f"{self.mailbox_id}:{self.folder} {self.uidvalidity}/{self.uid}"
