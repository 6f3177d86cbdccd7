"""Shared pieces of the mailbox tests: one Dovecot per test module, a mailbox row on it."""

from __future__ import annotations

import os
import secrets

import pytest

from mailboxes import addresses
from mailboxes.models import Mailbox
from tests.mailserver import Dovecot, dovecot_available


def require_dovecot():
    if dovecot_available():
        return
    reason = ("DOVECOT IS NOT INSTALLED: the IMAP mailbox tests need Debian's dovecot-imapd "
              "(`make test` installs it as root: apt-get install dovecot-imapd)")
    if os.environ.get("CI"):
        pytest.fail(reason)  # never skipped in .ci/run
    pytest.skip(reason)


@pytest.fixture(scope="module")
def dovecot():
    require_dovecot()
    with Dovecot() as server:
        yield server


@pytest.fixture
def account(dovecot):
    """A fresh IMAP account per test."""
    return f"support-{secrets.token_hex(4)}@example.com"  # any user name is an account


def make_mailbox(dovecot, account, port=None, password="", **fields) -> Mailbox:
    fields = {"imap_security": Mailbox.Security.NONE, **fields}
    mailbox = Mailbox(name="Support", address=account, imap_host="127.0.0.1", imap_port=port or dovecot.port,
                      username=account, **fields)
    mailbox.set_password(password or Dovecot.PASSWORD)
    mailbox.save()
    # The own-address cache lives a few seconds per process: a mailbox made by a test a moment
    # after another test filled it would otherwise not count as ours yet (as the settings
    # screen does after a save).
    addresses.forget()
    return mailbox
