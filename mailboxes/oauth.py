"""OAuth2 sign-in for Google and Microsoft 365 mailboxes (XOAUTH2 over IMAP and SMTP).

The admin consents once (authorization-code flow, offline access); we keep the refresh token
encrypted and mint access tokens from it, refreshing a few minutes before they expire. A
refresh answered with `invalid_grant` means the consent was revoked (or the password changed,
or the token expired unused): the mailbox says so in plain words and stops until reconnected.

Endpoints and client credentials come from settings (HELPDESK_OAUTH), so the tests point them
at a local token server speaking the same protocol.
"""

from __future__ import annotations

import logging
import urllib.parse
from datetime import timedelta

import httpx
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mailboxes import crypto
from mailboxes.models import Mailbox

log = logging.getLogger(__name__)

# Refresh this long before the access token expires (clock skew, a slow IMAP login).
REFRESH_MARGIN = timedelta(minutes=5)
_STATE_SALT = "mailboxes.oauth.state"

DEFAULTS = {
    "google": {
        "auth_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://oauth2.googleapis.com/token",
        "scope": "https://mail.google.com/",
        # offline + consent: Google returns a refresh token only when asked like this.
        "extra": {"access_type": "offline", "prompt": "consent"},
        "imap": ("imap.gmail.com", 993), "smtp": ("smtp.gmail.com", 587),
    },
    "microsoft": {
        "auth_url": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        "token_url": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        "scope": ("offline_access https://outlook.office.com/IMAP.AccessAsUser.All "
                  "https://outlook.office.com/SMTP.Send"),
        "extra": {"prompt": "select_account"},
        "imap": ("outlook.office365.com", 993), "smtp": ("smtp.office365.com", 587),
    },
}


class OAuthError(Exception):
    pass


class ConsentRevoked(OAuthError):
    """The provider no longer honours the refresh token: an admin must reconnect."""


def provider(name: str) -> dict:
    config = {**DEFAULTS.get(name, {}), **getattr(settings, "HELPDESK_OAUTH", {}).get(name, {})}
    tenant = config.get("tenant") or "common"
    for key in ("auth_url", "token_url"):
        config[key] = config.get(key, "").replace("{tenant}", tenant)
    return config


def configured(name: str) -> bool:
    config = provider(name)
    return bool(config.get("client_id") and config.get("client_secret"))


def redirect_uri() -> str:
    from django.urls import reverse

    return settings.HELPDESK_PUBLIC_URL + reverse("mailboxes:oauth_callback")


def consent_url(mailbox: Mailbox) -> str:
    """Where to send the admin's browser to grant access to this mailbox."""
    config = provider(mailbox.auth)
    if not configured(mailbox.auth):
        raise OAuthError(_("Set the %(provider)s OAuth client id and secret first (see README, "
                           "“Connecting a mailbox”).") % {"provider": mailbox.get_auth_display()})
    state = signing.dumps({"mailbox": mailbox.pk}, salt=_STATE_SALT)
    query = {"client_id": config["client_id"], "response_type": "code", "redirect_uri": redirect_uri(),
             "scope": config["scope"], "state": state, "login_hint": mailbox.username, **config.get("extra", {})}
    return f"{config['auth_url']}?{urllib.parse.urlencode(query)}"


def mailbox_from_state(state: str) -> Mailbox:
    try:
        data = signing.loads(state, salt=_STATE_SALT, max_age=3600)
    except signing.BadSignature as exc:
        raise OAuthError(_("The sign-in link is invalid or older than an hour; start again.")) from exc
    return Mailbox.objects.get(pk=data["mailbox"])


def _token_request(mailbox: Mailbox, data: dict) -> dict:
    config = provider(mailbox.auth)
    data = {"client_id": config.get("client_id", ""), "client_secret": config.get("client_secret", ""), **data}
    try:
        response = httpx.post(config["token_url"], data=data, timeout=float(config.get("timeout", 15)))
    except httpx.HTTPError as exc:
        raise OAuthError(_("The %(provider)s token endpoint cannot be reached (%(detail)s).")
                         % {"provider": mailbox.get_auth_display(), "detail": exc}) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400 or "access_token" not in body:
        error = body.get("error", f"HTTP {response.status_code}")
        description = body.get("error_description", "")
        if error == "invalid_grant":
            raise ConsentRevoked(_("%(provider)s no longer accepts this mailbox's sign-in (consent revoked, "
                                   "password changed or the grant expired): reconnect it on the mailbox "
                                   "settings screen. %(detail)s")
                                 % {"provider": mailbox.get_auth_display(), "detail": description})
        raise OAuthError(_("%(provider)s refused the token request: %(error)s %(detail)s")
                         % {"provider": mailbox.get_auth_display(), "error": error, "detail": description})
    return body


def _store(mailbox: Mailbox, body: dict) -> str:
    access = body["access_token"]
    expires = timezone.now() + timedelta(seconds=int(body.get("expires_in", 3600)))
    fields = {"oauth_access_encrypted": crypto.encrypt(access), "oauth_expires_at": expires}
    if body.get("refresh_token"):  # Microsoft rotates refresh tokens; Google sends one only at consent
        fields["oauth_refresh_encrypted"] = crypto.encrypt(body["refresh_token"])
    Mailbox.objects.filter(pk=mailbox.pk).update(**fields)
    for name, value in fields.items():
        setattr(mailbox, name, value)
    return access


def complete_consent(mailbox: Mailbox, code: str) -> None:
    """Exchange the authorization code from the callback for tokens."""
    body = _token_request(mailbox, {"grant_type": "authorization_code", "code": code,
                                    "redirect_uri": redirect_uri()})
    if not body.get("refresh_token"):
        raise OAuthError(_("%(provider)s granted access but sent no refresh token; remove the app's "
                           "access in the account's security settings and connect again.")
                         % {"provider": mailbox.get_auth_display()})
    _store(mailbox, body)
    log.info("mailbox %s connected with %s OAuth2", mailbox.pk, mailbox.auth)


def access_token(mailbox: Mailbox) -> str:
    """A valid access token, refreshed when it expires within REFRESH_MARGIN."""
    if not mailbox.oauth_refresh_encrypted:
        raise ConsentRevoked(_("This mailbox is not connected yet: use “Connect with %(provider)s”.")
                             % {"provider": mailbox.get_auth_display()})
    if mailbox.oauth_access_encrypted and mailbox.oauth_expires_at and \
            mailbox.oauth_expires_at - REFRESH_MARGIN > timezone.now():
        return crypto.decrypt(mailbox.oauth_access_encrypted)
    with transaction.atomic():
        # One refresh at a time per mailbox (SMTP delivery and the IMAP runner may both ask).
        fresh = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        if fresh.oauth_expires_at and fresh.oauth_expires_at - REFRESH_MARGIN > timezone.now() \
                and fresh.oauth_access_encrypted:
            mailbox.oauth_access_encrypted, mailbox.oauth_expires_at = fresh.oauth_access_encrypted, fresh.oauth_expires_at
            return crypto.decrypt(fresh.oauth_access_encrypted)
        body = _token_request(mailbox, {"grant_type": "refresh_token",
                                        "refresh_token": crypto.decrypt(fresh.oauth_refresh_encrypted)})
        return _store(mailbox, body)


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as Google and Microsoft document it."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"
