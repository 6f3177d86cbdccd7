"""The console's mailbox settings screen: admins only, secrets write-only and encrypted at rest,
health in plain words, "Test connection" against the real Dovecot."""

from __future__ import annotations

import secrets

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from mailboxes import crypto, health, runner
from mailboxes.models import Mailbox
from tests import mailbox_helpers
from tests.mailbox_helpers import make_mailbox
from tests.mailserver import Dovecot, free_port, mail

pytestmark = pytest.mark.django_db
dovecot = mailbox_helpers.dovecot  # fixture


@pytest.fixture
def admin(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("admin", password="pw"))
    return client


def form(dovecot, account, **changes):
    data = {"name": "Billing", "address": account, "enabled": "on", "auth": "password", "imap_host": "127.0.0.1",
            "imap_port": dovecot.port, "imap_security": "none", "username": account, "password": Dovecot.PASSWORD,
            "folder": "INBOX", "after_import": "seen", "outgoing": "mailer", "smtp_port": 587, "smtp_security": "none"}
    return {**data, **changes}


def test_only_admins_reach_the_mailbox_screens(console, django_user_model):
    boss = Client()
    boss.force_login(django_user_model.objects.create_superuser("boss", password="pw"))
    assert 'href="/console/mailboxes/"' in boss.get(reverse("console:queue")).content.decode()
    assert 'href="/console/mailboxes/"' not in console.get(reverse("console:queue")).content.decode()
    for name, args in (("mailboxes:list", []), ("mailboxes:new", [])):
        assert console.get(reverse(name, args=args)).status_code == 403
    assert console.post(reverse("mailboxes:new"), {}).status_code == 403
    assert Mailbox.objects.count() == 0


def test_an_admin_adds_a_mailbox_and_the_password_is_encrypted_and_never_shown(admin, dovecot):
    account = f"billing-{secrets.token_hex(3)}@example.com"
    response = admin.post(reverse("mailboxes:new"), form(dovecot, account))
    assert response.status_code == 302 and response["Location"] == reverse("mailboxes:list")
    mailbox = Mailbox.objects.get()
    assert mailbox.get_password() == Dovecot.PASSWORD
    with connection.cursor() as cursor:
        cursor.execute("SELECT password_encrypted FROM mailboxes_mailbox")
        stored = cursor.fetchone()[0]
    assert Dovecot.PASSWORD not in stored and crypto.decrypt(stored) == Dovecot.PASSWORD

    page = admin.get(reverse("mailboxes:edit", args=[mailbox.pk])).content.decode()
    assert Dovecot.PASSWORD not in page and stored not in page
    assert "A secret is stored (encrypted); it is never shown." in page

    # Saving without typing the password keeps it.
    admin.post(reverse("mailboxes:edit", args=[mailbox.pk]), form(dovecot, account, password="", name="Billing EU"))
    mailbox.refresh_from_db()
    assert mailbox.name == "Billing EU" and mailbox.get_password() == Dovecot.PASSWORD


def test_the_form_says_what_is_missing(admin, dovecot):
    account = f"x-{secrets.token_hex(3)}@example.com"
    response = admin.post(reverse("mailboxes:new"), form(dovecot, account, after_import="move", move_to="", password=""))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Name the folder to move imported mail to." in page and "Enter the mailbox&#x27;s password." in page
    response = admin.post(reverse("mailboxes:new"), form(dovecot, account, auth="microsoft"))
    assert "OAuth client is not configured on this server" in response.content.decode()
    assert Mailbox.objects.count() == 0


def test_the_list_shows_health_in_plain_words_and_mail_imported_today(admin, dovecot):
    good = f"good-{secrets.token_hex(3)}@example.com"
    dovecot.append(good, mail(1, to=good), mail(2, to=good))
    ok = make_mailbox(dovecot, good)
    assert runner.sync_once(ok, "owner") == 2
    bad = make_mailbox(dovecot, f"bad-{secrets.token_hex(3)}@example.com", password="wrong")
    assert runner.sync_once(bad, "owner") == -1

    response = admin.get(reverse("mailboxes:list"))
    page = response.content.decode()
    rows = {row["mailbox"].pk: row for row in response.context["rows"]}
    assert rows[ok.pk]["status"] == "ok" and rows[ok.pk]["today"] == 2
    assert rows[bad.pk]["status"] == "failing" and rows[bad.pk]["today"] == 0
    assert "The server refused the user name or password" in page and "retrying in" in page
    assert health.imported_today(ok) == 2


def test_test_connection_reports_success_or_the_reason(admin, dovecot):
    account = f"t-{secrets.token_hex(3)}@example.com"
    mailbox = make_mailbox(dovecot, account)
    page = admin.post(reverse("mailboxes:test", args=[mailbox.pk]), follow=True).content.decode()
    assert "Connected and opened “INBOX”. New mail arrives within seconds (IDLE)." in page

    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=free_port())
    page = admin.post(reverse("mailboxes:test", args=[mailbox.pk]), follow=True).content.decode()
    assert "The server refused the connection: wrong host or port?" in page


def test_removing_a_mailbox_keeps_its_tickets(admin, dovecot):
    account = f"rm-{secrets.token_hex(3)}@example.com"
    dovecot.append(account, mail(1, to=account))
    mailbox = make_mailbox(dovecot, account)
    assert runner.sync_once(mailbox, "owner") == 1
    admin.post(reverse("mailboxes:delete", args=[mailbox.pk]))
    from tickets.models import Ticket

    assert Mailbox.objects.count() == 0 and Ticket.objects.count() == 1
