"""Secrets at rest: Fernet keys from HELPDESK_ENCRYPTION_KEY, rotation, and a lost key said in
plain words (never a crash, never the secret)."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from mailboxes import crypto, runner
from mailboxes.models import Mailbox
from tests import mailbox_helpers

pytestmark = pytest.mark.django_db
dovecot = mailbox_helpers.dovecot  # fixture


def test_keys_rotate_newest_first(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HELPDESK_ENCRYPTION_KEY = old
    mailbox = Mailbox.objects.create(name="m", address="m@example.com", imap_host="h", username="m")
    mailbox.set_password("hunter2")
    mailbox.save()
    settings.HELPDESK_ENCRYPTION_KEY = f"{new},{old}"  # prepend the new key: both still decrypt
    assert Mailbox.objects.get().get_password() == "hunter2"
    out = io.StringIO()
    call_command("rotate_mailbox_secrets", stdout=out)
    assert "1 mailbox(es) re-encrypted" in out.getvalue()
    settings.HELPDESK_ENCRYPTION_KEY = new  # the old key can go now
    assert Mailbox.objects.get().get_password() == "hunter2"


def test_a_bad_key_setting_is_refused_with_the_fix(settings):
    settings.HELPDESK_ENCRYPTION_KEY = "not-a-key"
    with pytest.raises(ImproperlyConfigured, match="generate_encryption_key"):
        crypto.encrypt("x")


def test_a_secret_under_a_lost_key_is_reported_in_plain_words(settings, dovecot):
    settings.HELPDESK_ENCRYPTION_KEY = Fernet.generate_key().decode()
    mailbox = Mailbox.objects.create(name="m", address="m@example.com", imap_host="127.0.0.1",
                                     imap_port=dovecot.port, imap_security="none", username="m@example.com")
    mailbox.set_password("hunter2")
    mailbox.save()
    settings.HELPDESK_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(crypto.SecretUnreadable, match="cannot be decrypted"):
        mailbox.get_password()
    assert runner.sync_once(mailbox, "owner") == -1  # the server answers; the password cannot be read
    mailbox.refresh_from_db()
    assert "cannot be decrypted (was HELPDESK_ENCRYPTION_KEY changed?)" in mailbox.last_error
    assert "hunter2" not in mailbox.last_error


def test_generate_encryption_key_prints_a_usable_key(settings):
    out = io.StringIO()
    call_command("generate_encryption_key", stdout=out)
    settings.HELPDESK_ENCRYPTION_KEY = out.getvalue().strip()
    assert crypto.decrypt(crypto.encrypt("s")) == "s"
