"""Opening an IMAP session for a mailbox (imapclient), and saying what went wrong in plain words.

imapclient earns its place: it parses FETCH/SEARCH responses, IDLE and the capability
checks that imaplib leaves to the caller, and it is what most Python mail tools use."""

from __future__ import annotations

import imaplib
import socket
import ssl

from django.conf import settings
from django.utils.translation import gettext as _
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from mailboxes import crypto, oauth
from mailboxes.models import Mailbox


class MailboxError(Exception):
    """A failure the admin can act on, already in plain words (shown on the health screen)."""

    def __init__(self, message: str, kind: str = "error"):
        super().__init__(message)
        self.kind = kind


def timeout() -> float:
    return float(getattr(settings, "HELPDESK_MAILBOX_TIMEOUT_SECONDS", 30))


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    cafile = getattr(settings, "HELPDESK_MAILBOX_CA_FILE", "")
    if cafile:  # a private CA (and the tests' self-signed Dovecot)
        context.load_verify_locations(cafile)
    return context


def connect(mailbox: Mailbox) -> IMAPClient:
    """A logged-in session (not yet in a folder). Raises MailboxError."""
    security = mailbox.imap_security
    try:
        client = IMAPClient(mailbox.imap_host, port=mailbox.imap_port, use_uid=True,
                            ssl=security == Mailbox.Security.SSL, ssl_context=tls_context(),
                            timeout=timeout())
        if security == Mailbox.Security.STARTTLS:
            client.starttls(tls_context())
    except Exception as exc:  # noqa: BLE001 - every way of failing to connect gets its words
        raise MailboxError(explain(exc), kind=kind_of(exc)) from exc
    try:
        if mailbox.uses_oauth:
            token = oauth.access_token(mailbox)
            client.oauth2_login(mailbox.username, token)
        else:
            client.login(mailbox.username, mailbox.get_password())
    except oauth.OAuthError:  # already in plain words (revoked consent, token endpoint down)
        close(client)
        raise
    except Exception as exc:  # noqa: BLE001
        close(client)
        raise MailboxError(explain(exc), kind=kind_of(exc)) from exc
    return client


def select(client: IMAPClient, mailbox: Mailbox, folder: str) -> int:
    """Select the folder; returns its UIDVALIDITY. Read-only when we leave mail untouched."""
    try:
        info = client.select_folder(folder, readonly=mailbox.after_import == Mailbox.AfterImport.LEAVE)
    except IMAPClientError as exc:
        if not client.folder_exists(folder):
            raise MailboxError(_("The folder “%(folder)s” does not exist on the server.") % {"folder": folder},
                               kind="folder") from exc
        raise
    return int(info[b"UIDVALIDITY"])


def move(client: IMAPClient, uids: list[int], folder: str) -> None:
    """MOVE where offered (RFC 6851), else COPY + \\Deleted + UID EXPUNGE of just these."""
    try:
        if client.has_capability("MOVE"):
            client.move(uids, folder)
            return
        client.copy(uids, folder)
        client.add_flags(uids, [b"\\Deleted"])
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()
    except IMAPClientError as exc:
        if not client.folder_exists(folder):
            raise MailboxError(_("Cannot move imported mail: the folder “%(folder)s” does not exist.")
                               % {"folder": folder}, kind="folder") from exc
        raise


def close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001, S110 - the connection is being dropped anyway
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001, S110
            pass



def kind_of(exc: BaseException) -> str:
    text = str(exc).lower()
    if isinstance(exc, LoginError) or "authenticationfailed" in text or "authentication failed" in text:
        return "auth"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls"
    if "overquota" in text or "quota" in text:
        return "quota"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, OSError | imaplib.IMAP4.abort):
        return "connection"
    return "error"


def explain(exc: BaseException) -> str:
    """One sentence an admin understands, with the server's own words after it."""
    if isinstance(exc, MailboxError):
        return str(exc)
    if isinstance(exc, crypto.SecretUnreadable):
        return _("The stored password or sign-in cannot be decrypted (was HELPDESK_ENCRYPTION_KEY "
                 "changed?): enter the password again or reconnect the mailbox.")
    detail = str(exc).strip() or type(exc).__name__
    kind = kind_of(exc)
    if kind == "auth":
        return _("The server refused the user name or password (%(detail)s).") % {"detail": detail}
    if kind == "tls":
        return _("TLS failed: the server's certificate or encryption settings do not match "
                 "(%(detail)s). Check the security mode and port.") % {"detail": detail}
    if kind == "quota":
        return _("The mailbox is over its storage quota (%(detail)s).") % {"detail": detail}
    if kind == "timeout":
        return _("The server did not answer in time (%(detail)s).") % {"detail": detail}
    if isinstance(exc, socket.gaierror):
        return _("The server name cannot be found (%(detail)s).") % {"detail": detail}
    if isinstance(exc, ConnectionRefusedError):
        return _("The server refused the connection: wrong host or port? (%(detail)s)") % {"detail": detail}
    if kind == "connection":
        return _("The connection to the server was lost (%(detail)s).") % {"detail": detail}
    return _("The IMAP server answered with an error: %(detail)s") % {"detail": detail}

