"""Mailboxes against a real Dovecot: first sync, flag/move/leave, never lose, never double
(crash between commit and flag, UIDVALIDITY change, dropped connections during a 500-mail
sync), quarantine, plain-words health, backoff and the lease."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from imapclient import SEEN

from mailboxes import health, runner, sync
from mailboxes.models import ImportedMail, Mailbox, MailboxFolder
from tests import mailbox_helpers
from tests.mailbox_helpers import make_mailbox
from tests.mailserver import FaultyProxy, free_port, mail
from tickets.models import InboundPayload, Message, Team, Ticket

pytestmark = pytest.mark.django_db
account = mailbox_helpers.account  # fixture
dovecot = mailbox_helpers.dovecot  # fixture


def flags_of(dovecot, account, folder="INBOX"):
    client = dovecot.client(account)
    try:
        client.select_folder(folder, readonly=True)
        return client.get_flags(client.search("ALL"))
    finally:
        client.logout()


def test_first_sync_imports_every_mail_once_with_the_team_and_marks_it_read(dovecot, account):
    team = Team.objects.create(name="Billing")
    dovecot.append(account, *(mail(n, to=account) for n in range(3)))
    mailbox = make_mailbox(dovecot, account, team=team)

    assert runner.sync_once(mailbox, "owner-a") == 3

    messages = Message.objects.filter(direction="inbound").order_by("pk")
    assert [m.subject for m in messages] == ["Question 0", "Question 1", "Question 2"]
    assert {m.meta["mailbox"] for m in messages} == {mailbox.pk}
    assert set(Ticket.objects.values_list("team__name", flat=True)) == {"Billing"}
    # A first sync's backlog is history: stored under the adapter that sends no acknowledgements.
    assert set(InboundPayload.objects.values_list("adapter", "state")) == {("email_mailbox_history", "processed")}
    assert all(SEEN in flags for flags in flags_of(dovecot, account).values())
    state = MailboxFolder.objects.get(mailbox=mailbox)
    assert state.uidvalidity and state.last_uid == 3
    mailbox.refresh_from_db()
    assert mailbox.last_success_at and mailbox.failures == 0 and health.imported_today(mailbox) == 3

    # Nothing new: nothing imported, nothing doubled. New mail then flows as live mail.
    assert runner.sync_once(mailbox, "owner-a") == 0
    dovecot.append(account, mail(9, to=account))
    assert runner.sync_once(mailbox, "owner-a") == 1
    assert Message.objects.filter(direction="inbound").count() == 4
    assert InboundPayload.objects.filter(adapter="email_mailbox").count() == 1


def test_large_mail_is_fetched_in_batches_bounded_by_size(dovecot, account, monkeypatch):
    monkeypatch.setattr(sync, "BATCH_BYTES", 250_000)
    dovecot.append(account, *(mail(n, to=account, body="y" * 100_000) for n in range(5)))
    mailbox = make_mailbox(dovecot, account)
    seen = []
    real = sync._import_batch
    monkeypatch.setattr(sync, "_import_batch", lambda m, c, s, v, uids, *a, **k: seen.append(list(uids)) or real(m, c, s, v, uids, *a, **k))
    assert runner.sync_once(mailbox, "owner-a") == 5
    assert seen == [[1, 2], [3, 4], [5]]  # ~100 kB each: two per 250 kB batch
    assert Message.objects.count() == 5


def test_a_crash_between_commit_and_flag_finishes_the_flag_and_keeps_one_copy(dovecot, account, monkeypatch):
    dovecot.append(account, mail(1, to=account), mail(2, to=account))
    mailbox = make_mailbox(dovecot, account)
    real = sync._server_action

    def crash(*args, **kwargs):
        raise ConnectionResetError("the process died here")

    monkeypatch.setattr(sync, "_server_action", crash)
    assert runner.sync_once(mailbox, "owner-a") == -1
    # Stored and ingested (committed first), but the server was told nothing yet.
    assert Message.objects.count() == 2
    assert ImportedMail.objects.filter(server_done=False).count() == 2
    assert not any(SEEN in flags for flags in flags_of(dovecot, account).values())
    mailbox.refresh_from_db()
    assert "connection to the server was lost" in mailbox.last_error

    monkeypatch.setattr(sync, "_server_action", real)
    mailbox.next_attempt_at = None
    assert runner.sync_once(mailbox, "owner-a") == 0  # nothing re-imported...
    assert Message.objects.count() == 2 and InboundPayload.objects.count() == 2
    assert ImportedMail.objects.filter(server_done=False).count() == 0  # ...and the flag caught up
    assert all(SEEN in flags for flags in flags_of(dovecot, account).values())


def test_a_crash_before_commit_refetches_and_ingest_keeps_one(dovecot, account, monkeypatch):
    dovecot.append(account, mail(1, to=account))
    mailbox = make_mailbox(dovecot, account)
    original = ImportedMail.objects.bulk_create

    def die(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ImportedMail.objects, "bulk_create", die)
    assert runner.sync_once(mailbox, "owner-a") == -1
    assert InboundPayload.objects.count() == 0 and Message.objects.count() == 0  # rolled back whole
    monkeypatch.setattr(ImportedMail.objects, "bulk_create", original)
    assert runner.sync_once(mailbox, "owner-a") == 1
    assert Message.objects.count() == 1


def test_a_payload_left_unprocessed_by_a_crash_is_ingested_on_the_next_run(dovecot, account, monkeypatch):
    dovecot.append(account, mail(1, to=account))
    mailbox = make_mailbox(dovecot, account)
    monkeypatch.setattr(sync, "_process", lambda payload: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit, match="killed"):
        runner.sync_once(mailbox, "owner-a")
    assert InboundPayload.objects.get().state == InboundPayload.State.RECEIVED
    monkeypatch.undo()
    assert runner.sync_once(mailbox, "owner-a") == 0
    assert InboundPayload.objects.get().state == InboundPayload.State.PROCESSED
    assert Message.objects.count() == 1


def test_a_uidvalidity_change_resyncs_by_message_id_without_doubling(dovecot, account):
    dovecot.append(account, mail(1, to=account), mail(2, to=account))
    mailbox = make_mailbox(dovecot, account, after_import=Mailbox.AfterImport.LEAVE)
    assert runner.sync_once(mailbox, "owner-a") == 2
    before = MailboxFolder.objects.get(mailbox=mailbox).uidvalidity

    dovecot.renumber(account)
    dovecot.append(account, mail(3, to=account))
    assert runner.sync_once(mailbox, "owner-a") == 1  # only the new one is downloaded and stored

    state = MailboxFolder.objects.get(mailbox=mailbox)
    assert state.uidvalidity != before and state.last_uid == 3
    assert Message.objects.count() == 3 and InboundPayload.objects.count() == 3
    assert ImportedMail.objects.filter(uidvalidity=state.uidvalidity).count() == 3


def test_move_after_import_and_leave_as_is(dovecot, account):
    dovecot.append(account, mail(1, to=account))
    mailbox = make_mailbox(dovecot, account, after_import=Mailbox.AfterImport.MOVE, move_to="Archive")
    assert runner.sync_once(mailbox, "owner-a") == 1
    assert dovecot.uids(account) == [] and len(dovecot.uids(account, "Archive")) == 1

    other = f"leave-{secrets.token_hex(3)}@example.com"
    dovecot.append(other, mail(2, to=other))
    left = make_mailbox(dovecot, other, after_import=Mailbox.AfterImport.LEAVE)
    assert runner.sync_once(left, "owner-a") == 1
    assert not any(SEEN in flags for flags in flags_of(dovecot, other).values())


def test_import_since_skips_older_mail_on_the_first_sync(dovecot, account):
    dovecot.append(account, mail(1, to=account, subject="old"), when=datetime(2020, 1, 5, tzinfo=UTC))
    dovecot.append(account, mail(2, to=account, subject="recent"))
    mailbox = make_mailbox(dovecot, account, import_since=timezone.localdate() - timedelta(days=30))
    assert runner.sync_once(mailbox, "owner-a") == 1
    assert list(Message.objects.values_list("subject", flat=True)) == ["recent"]


def test_an_unparseable_mail_is_quarantined_and_the_rest_flows(dovecot, account):
    no_sender = b"To: x@example.com\r\nSubject: who am I\r\nMessage-ID: <nosender@x>\r\n\r\nbody\r\n"
    dovecot.append(account, mail(1, to=account), no_sender, mail(3, to=account))
    mailbox = make_mailbox(dovecot, account)
    assert runner.sync_once(mailbox, "owner-a") == 3
    quarantined = InboundPayload.objects.get(state=InboundPayload.State.QUARANTINED)
    assert bytes(quarantined.body) == no_sender and "no single parseable From address" in quarantined.error
    assert Message.objects.count() == 2
    assert all(SEEN in flags for flags in flags_of(dovecot, account).values())  # stored: done on the server


def test_mail_from_the_mailbox_address_itself_is_a_loop_not_a_customer(dovecot, account):
    dovecot.append(account, mail(1, sender=account, to="someone@customers.example"))
    mailbox = make_mailbox(dovecot, account)
    from mailboxes import addresses

    addresses.forget()
    assert runner.sync_once(mailbox, "owner-a") == 1
    assert Message.objects.count() == 0
    assert "a loop" in InboundPayload.objects.get().error


@pytest.mark.parametrize(("change", "words"), [
    ({"password": "wrong"}, "refused the user name or password"),
    ({"folder": "Nope"}, "The folder “Nope” does not exist"),
    ({"port": "closed"}, "refused the connection"),
    ({"imap_security": Mailbox.Security.SSL}, "TLS failed"),  # TLS spoken to a plain-text port
])
def test_failures_are_explained_in_plain_words_and_back_off(dovecot, account, change, words, settings):
    settings.HELPDESK_MAILBOX_RETRY_SECONDS = 30
    port = free_port() if change.get("port") == "closed" else None
    fields = {k: v for k, v in change.items() if k != "port"}
    mailbox = make_mailbox(dovecot, account, port=port, **fields)
    assert runner.sync_once(mailbox, "owner-a") == -1
    mailbox.refresh_from_db()
    assert words in mailbox.last_error and mailbox.failures == 1
    first_wait = mailbox.next_attempt_at - mailbox.last_error_at
    assert timedelta(seconds=24) <= first_wait <= timedelta(seconds=36)
    assert runner.sync_once(mailbox, "owner-a") == -1
    mailbox.refresh_from_db()
    assert mailbox.failures == 2 and mailbox.next_attempt_at - mailbox.last_error_at > first_wait
    assert health.status(mailbox) == "failing"


def test_a_server_that_never_answers_times_out_in_plain_words(dovecot, account, settings):
    import socket

    settings.HELPDESK_MAILBOX_TIMEOUT_SECONDS = 1
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never sends the IMAP greeting
    try:
        mailbox = make_mailbox(dovecot, account, port=silent.getsockname()[1])
        assert runner.sync_once(mailbox, "owner-a") == -1
    finally:
        silent.close()
    mailbox.refresh_from_db()
    assert "The server did not answer in time" in mailbox.last_error and mailbox.next_attempt_at


def test_a_full_mailbox_is_said_in_plain_words():
    from imapclient.exceptions import IMAPClientError

    from mailboxes import imap

    words = imap.explain(IMAPClientError("[OVERQUOTA] Quota exceeded (mailbox for user is full)"))
    assert words.startswith("The mailbox is over its storage quota") and "[OVERQUOTA]" in words


def test_backoff_doubles_and_is_capped_at_an_hour(settings):
    settings.HELPDESK_MAILBOX_RETRY_SECONDS = 30
    assert timedelta(seconds=24) <= health.backoff(1) <= timedelta(seconds=36)
    assert timedelta(seconds=96) <= health.backoff(3) <= timedelta(seconds=144)
    assert health.backoff(40) <= timedelta(hours=1.2)


def test_the_lease_gives_a_mailbox_to_one_runner_at_a_time(dovecot, account, settings):
    dovecot.append(account, mail(1, to=account))
    mailbox = make_mailbox(dovecot, account)
    assert health.claim(mailbox.pk, "runner-a")
    assert not health.claim(mailbox.pk, "runner-b")
    assert runner.sync_once(mailbox, "runner-b") == 0  # b may not import while a holds it
    assert Message.objects.count() == 0
    assert health.claim(mailbox.pk, "runner-a")  # renewing is fine
    Mailbox.objects.filter(pk=mailbox.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert runner.sync_once(mailbox, "runner-b") == 1  # a died: b takes over after expiry
    assert Mailbox.objects.get(pk=mailbox.pk).lease_owner == ""  # released after the pass


def test_two_runners_racing_for_the_same_uids_store_them_once(dovecot, account):
    dovecot.append(account, mail(1, to=account))
    mailbox = make_mailbox(dovecot, account)
    from mailboxes import imap

    client = imap.connect(mailbox)
    try:
        assert sync.sync(mailbox, client) == 1
        # A second runner with a stale view of the folder (last_uid 0) reaches the same UIDs.
        MailboxFolder.objects.filter(mailbox=mailbox).update(last_uid=0)
        stale = Mailbox.objects.get(pk=mailbox.pk)
        # The unique (folder, UIDVALIDITY, UID) row refuses it; the loser stops, nothing doubled.
        with pytest.raises(sync.LeaseLost, match="another runner stored these UIDs first"):
            sync.sync(stale, client)
    finally:
        imap.close(client)
    assert InboundPayload.objects.count() == 1 and Message.objects.count() == 1


def test_every_mail_exactly_once_through_a_network_that_drops_connections(dovecot, account, settings):
    """500 mails through a proxy that cuts the connection at random points: each run fails
    somewhere, the next one carries on; in the end every mail is there exactly once."""
    settings.HELPDESK_MAILBOX_TIMEOUT_SECONDS = 5
    rng = random.Random(18)
    mails = [mail(n, to=account, body=f"mail {n} " + "x" * rng.randrange(200, 6000)) for n in range(500)]
    dovecot.append(account, *mails)
    proxy = FaultyProxy(dovecot.port, rng, mean_bytes=150_000)
    try:
        mailbox = make_mailbox(dovecot, account, port=proxy.port)
        failures = 0
        for _attempt in range(400):
            mailbox.refresh_from_db()
            if runner.sync_once(mailbox, "owner-a") >= 0 and \
                    not ImportedMail.objects.filter(mailbox=mailbox, server_done=False).exists() and \
                    ImportedMail.objects.filter(mailbox=mailbox).count() == 500:
                break
            failures += 1
        assert failures >= 3 and proxy.cuts >= 3  # the network really did fail, repeatedly
    finally:
        proxy.close()
    assert ImportedMail.objects.filter(mailbox=mailbox).count() == 500
    assert InboundPayload.objects.count() == 500
    bodies = sorted(int(m.text.split()[1]) for m in Message.objects.filter(direction="inbound"))
    assert bodies == list(range(500))
    assert all(SEEN in flags for flags in flags_of(dovecot, account).values())
