"""A mailbox's own SMTP server for replies: Django's SMTP backend, plus XOAUTH2 for Google and
Microsoft 365 (smtplib speaks any SASL mechanism given the initial response)."""

from __future__ import annotations

from django.core.mail.backends.smtp import EmailBackend

from mailboxes import imap, oauth
from mailboxes.models import Mailbox
from tickets.channels import PermanentDeliveryError, TransientDeliveryError


class MailboxSMTPBackend(EmailBackend):
    def __init__(self, mailbox: Mailbox, **kwargs):
        self.mailbox = mailbox
        security = mailbox.smtp_security
        super().__init__(
            alias=f"mailbox-{mailbox.pk}", host=mailbox.smtp_host or mailbox.imap_host,
            port=mailbox.smtp_port, username=mailbox.smtp_username or mailbox.username,
            # OAuth: no password login; open() authenticates with XOAUTH2 instead.
            password="" if mailbox.uses_oauth else mailbox.get_smtp_password(),
            use_tls=security == Mailbox.Security.STARTTLS, use_ssl=security == Mailbox.Security.SSL,
            timeout=imap.timeout(), **kwargs)

    @property
    def ssl_context(self):
        return imap.tls_context()

    def open(self):
        opened = super().open()
        if opened and self.mailbox.uses_oauth:
            try:
                token = oauth.access_token(self.mailbox)
            except oauth.ConsentRevoked as exc:  # the agent sees why; an admin must reconnect
                self.close()
                raise PermanentDeliveryError(str(exc), code="oauth_revoked") from exc
            except oauth.OAuthError as exc:  # the token endpoint is down: retried later
                self.close()
                raise TransientDeliveryError(str(exc), code="oauth") from exc
            answer = oauth.xoauth2_string(self.username, token)
            try:
                self.connection.ehlo_or_helo_if_needed()
                self.connection.auth("XOAUTH2", lambda challenge=None: answer, initial_response_ok=True)
            except Exception:
                self.close()
                raise
        return opened


def backend_for(mailbox: Mailbox) -> MailboxSMTPBackend:
    return MailboxSMTPBackend(mailbox)
