"""The mailbox settings form. Secrets are write-only: the fields are never filled in, and
leaving one empty keeps what is stored."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mailboxes import oauth
from mailboxes.models import Mailbox


class MailboxForm(forms.ModelForm):
    password = forms.CharField(
        label=_("password"), required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted, never shown again. Leave empty to keep the current one. "
                    "Gmail / Microsoft 365 with a password need an app password."))
    smtp_password = forms.CharField(
        label=_("SMTP password"), required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Empty: the IMAP password."))

    class Meta:
        model = Mailbox
        fields = ["name", "address", "team", "enabled", "auth", "imap_host", "imap_port", "imap_security",
                  "username", "folder", "after_import", "move_to", "import_since", "outgoing", "smtp_host",
                  "smtp_port", "smtp_security", "smtp_username"]
        widgets = {"import_since": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["imap_host"].required = False
        self.fields["username"].required = False

    def clean(self):
        data = super().clean()
        auth = data.get("auth")
        if auth in (Mailbox.Auth.GOOGLE, Mailbox.Auth.MICROSOFT):
            if not oauth.configured(auth):
                self.add_error("auth", _("The %(provider)s OAuth client is not configured on this server "
                                         "(see README, “Mailboxes”).") % {"provider": Mailbox.Auth(auth).label})
            defaults = oauth.provider(auth)
            # The provider's well-known servers, unless the admin typed others.
            data["imap_host"] = data.get("imap_host") or defaults["imap"][0]
            data["smtp_host"] = data.get("smtp_host") or defaults["smtp"][0]
        data["username"] = data.get("username") or data.get("address", "")
        if not data.get("imap_host"):
            self.add_error("imap_host", _("Enter the IMAP server's host name."))
        if data.get("after_import") == Mailbox.AfterImport.MOVE and not data.get("move_to"):
            self.add_error("move_to", _("Name the folder to move imported mail to."))
        if data.get("outgoing") == Mailbox.Outgoing.SMTP and not (data.get("smtp_host") or data.get("imap_host")):
            self.add_error("smtp_host", _("Enter the SMTP server's host name."))
        is_new = self.instance.pk is None or self.instance.auth != auth
        if auth == Mailbox.Auth.PASSWORD and not data.get("password") and (is_new or not self.instance.password_encrypted):
            self.add_error("password", _("Enter the mailbox's password."))
        return data

    def save(self, commit=True):
        auth_changed = "auth" in self.changed_data
        mailbox = super().save(commit=False)
        if auth_changed:  # tokens of another provider (or none) are worthless now
            mailbox.oauth_refresh_encrypted = mailbox.oauth_access_encrypted = ""
            mailbox.oauth_expires_at = None
        mailbox.imap_host = self.cleaned_data["imap_host"]
        mailbox.smtp_host = self.cleaned_data.get("smtp_host", "")
        mailbox.username = self.cleaned_data["username"]
        if self.cleaned_data.get("password"):
            mailbox.set_password(self.cleaned_data["password"])
        if self.cleaned_data.get("smtp_password"):
            mailbox.set_smtp_password(self.cleaned_data["smtp_password"])
        # New settings: try again now, not after the backoff of the old ones.
        mailbox.next_attempt_at = None
        mailbox.failures = 0
        if commit:
            mailbox.save()
        return mailbox
