"""OAuth2 (XOAUTH2) mailboxes: the consent flow through the settings screen against a local
token endpoint speaking the real protocol, IMAP login verified by Dovecot's oauth2 passdb
(token introspection), SMTP XOAUTH2 verified by the SMTP server, refresh before expiry, and
a revoked consent said in plain words."""

from __future__ import annotations

import secrets
import urllib.parse
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from mailboxes import crypto, oauth, runner
from mailboxes.models import Mailbox
from tests.mailbox_helpers import require_dovecot
from tests.mailserver import Dovecot, OAuthServer, SmtpServer, mail
from tickets import services
from tickets.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def oauth_server():
    with OAuthServer(user="") as server:
        yield server


@pytest.fixture(scope="module")
def dovecot(oauth_server):
    require_dovecot()
    with Dovecot(oauth_introspection_url=oauth_server.url("/introspect")) as server:
        yield server


@pytest.fixture
def account(oauth_server):
    oauth_server.user = f"oauth-{secrets.token_hex(3)}@example.com"
    oauth_server.codes.add("consent-code")
    return oauth_server.user


@pytest.fixture(autouse=True)
def google_client(settings, oauth_server):
    settings.HELPDESK_OAUTH = {"google": {
        "client_id": oauth_server.client_id, "client_secret": oauth_server.client_secret,
        "auth_url": oauth_server.url("/auth"), "token_url": oauth_server.url("/token")}}


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("admin", password="pw"))
    return client


def connect_through_the_screen(admin_client, dovecot, account, **extra) -> Mailbox:
    response = admin_client.post(reverse("mailboxes:new"), {
        "name": "Google support", "address": account, "enabled": "on", "auth": "google",
        "imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_security": "none", "username": account,
        "folder": "INBOX", "after_import": "seen", "outgoing": "mailer", "smtp_port": 587,
        "smtp_security": "none", **extra})
    mailbox = Mailbox.objects.get(address=account)
    assert response.status_code == 302 and response["Location"] == reverse("mailboxes:oauth_start", args=[mailbox.pk])
    consent = admin_client.get(response["Location"])
    target = urllib.parse.urlsplit(consent["Location"])
    query = dict(urllib.parse.parse_qsl(target.query))
    assert f"{target.scheme}://{target.netloc}{target.path}" == settings.HELPDESK_OAUTH["google"]["auth_url"]
    assert query["client_id"] == "test-client" and query["scope"] == "https://mail.google.com/"
    assert query["access_type"] == "offline" and query["login_hint"] == account
    assert query["redirect_uri"].endswith(reverse("mailboxes:oauth_callback"))
    # The provider sends the browser back with a code; we exchange it for tokens.
    done = admin_client.get(reverse("mailboxes:oauth_callback"), {"code": "consent-code", "state": query["state"]})
    assert done.status_code == 302
    mailbox.refresh_from_db()
    return mailbox


def test_consent_then_imap_and_smtp_sign_in_with_xoauth2(admin_client, dovecot, account, oauth_server,
                                                        agent, run_tasks, django_capture_on_commit_callbacks):
    with SmtpServer(oauth=oauth_server) as smtp_server:
        mailbox = connect_through_the_screen(admin_client, dovecot, account, outgoing="smtp",
                                             smtp_host="127.0.0.1", smtp_port=smtp_server.port)
        # Stored encrypted: the token itself is nowhere in the row.
        refresh = crypto.decrypt(mailbox.oauth_refresh_encrypted)
        assert refresh in oauth_server.refresh_tokens and refresh not in mailbox.oauth_refresh_encrypted
        assert mailbox.oauth_expires_at > timezone.now() + timedelta(minutes=50)

        dovecot.append(account, mail(1, to=account))
        assert runner.sync_once(mailbox, "owner") == 1, Mailbox.objects.get(pk=mailbox.pk).last_error
        # Dovecot's oauth2 passdb asked our token server about the bearer token we presented.
        access = crypto.decrypt(mailbox.oauth_access_encrypted)
        assert {"path": "/introspect", "token": access} in oauth_server.requests

        ticket = Message.objects.get().ticket
        with django_capture_on_commit_callbacks(execute=True):
            reply = services.reply(ticket, author=agent, text="Sorted.")
        with django_capture_on_commit_callbacks(execute=True):
            run_tasks()
        reply.refresh_from_db()
        assert reply.status == Message.Status.SENT, reply.error_message
        assert smtp_server.auth_log == [("XOAUTH2", account)]
        assert smtp_server.messages[0].mail_from == account


def test_the_access_token_is_refreshed_before_it_expires(admin_client, dovecot, account, oauth_server):
    mailbox = connect_through_the_screen(admin_client, dovecot, account)
    old = crypto.decrypt(mailbox.oauth_access_encrypted)
    assert oauth.access_token(mailbox) == old  # fresh: no request
    Mailbox.objects.filter(pk=mailbox.pk).update(oauth_expires_at=timezone.now() + timedelta(minutes=2))
    mailbox.refresh_from_db()
    new = oauth.access_token(mailbox)
    assert new != old and oauth_server.valid_access(new) == account
    assert oauth_server.requests[-1]["grant_type"] == "refresh_token"
    assert Mailbox.objects.get(pk=mailbox.pk).oauth_expires_at > timezone.now() + timedelta(minutes=50)


def test_a_revoked_consent_is_said_in_plain_words_and_backs_off(admin_client, dovecot, account, oauth_server):
    mailbox = connect_through_the_screen(admin_client, dovecot, account)
    oauth_server.revoke()
    Mailbox.objects.filter(pk=mailbox.pk).update(oauth_expires_at=timezone.now() - timedelta(seconds=1))
    mailbox.refresh_from_db()
    assert runner.sync_once(mailbox, "owner") == -1
    mailbox.refresh_from_db()
    assert "no longer accepts this mailbox's sign-in" in mailbox.last_error
    assert "reconnect it" in mailbox.last_error and mailbox.failures == 1
    assert mailbox.next_attempt_at > timezone.now()
    page = admin_client.get(reverse("mailboxes:list")).content.decode()
    assert "Reconnect" in page and "no longer accepts this mailbox" in page


def test_a_reply_through_a_revoked_mailbox_fails_with_the_reason_for_the_agent(
        admin_client, dovecot, account, oauth_server, agent, run_tasks, django_capture_on_commit_callbacks):
    with SmtpServer(oauth=oauth_server) as smtp_server:
        mailbox = connect_through_the_screen(admin_client, dovecot, account, outgoing="smtp",
                                             smtp_host="127.0.0.1", smtp_port=smtp_server.port)
        dovecot.append(account, mail(1, to=account))
        assert runner.sync_once(mailbox, "owner") == 1
        oauth_server.revoke()
        Mailbox.objects.filter(pk=mailbox.pk).update(oauth_expires_at=timezone.now() - timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            reply = services.reply(Message.objects.get().ticket, author=agent, text="Hello?")
        with django_capture_on_commit_callbacks(execute=True):
            run_tasks()
        reply.refresh_from_db()
        assert reply.status == Message.Status.FAILED and reply.error_code == "oauth_revoked"
        assert "reconnect it on the mailbox settings screen" in reply.error_message
        assert smtp_server.messages == []


def test_a_refused_consent_or_a_forged_state_stores_nothing(admin_client, dovecot, account):
    response = admin_client.get(reverse("mailboxes:oauth_callback"), {"code": "consent-code", "state": "forged"})
    assert response.status_code == 302
    assert Mailbox.objects.filter(oauth_refresh_encrypted__gt="").count() == 0
    page = admin_client.get(reverse("mailboxes:list")).content.decode()
    assert "The sign-in link is invalid or older than an hour" in page
