"""One sync pass over a mailbox's folder: new UIDs -> stored payloads -> ingest -> flag/move.

The order is the guarantee:
  1. FETCH a batch (BODY.PEEK: reading marks nothing on the server);
  2. commit the raw mails as InboundPayloads with their ImportedMail rows and the folder's new
     last UID, in ONE transaction (a crash before it re-fetches; after it, nothing is fetched
     again: ImportedMail is unique per folder, UIDVALIDITY and UID);
  3. process each payload (ingest is idempotent on Message-ID; an unparseable mail is
     quarantined as with the MTA pipe, the rest flows);
  4. only then flag or move the batch on the server, and mark the rows done. A crash before
     that leaves `server_done` false and the next pass finishes the job.
A changed UIDVALIDITY (the server renumbered the folder) starts a new epoch; mails whose
Message-ID this mailbox already imported are recorded, not imported again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from imapclient import SEEN, IMAPClient

from mailboxes import imap
from mailboxes.models import ImportedMail, Mailbox, MailboxFolder
from tickets import services
from tickets.models import InboundPayload

log = logging.getLogger(__name__)

BATCH = 100
BATCH_BYTES = 32 * 1024 * 1024
ADAPTER = "email_mailbox"  # live mail: acknowledged like the pipe's
HISTORY_ADAPTER = "email_mailbox_history"  # a first sync's backlog: no "we got your message"
_BODY = b"BODY[]"
_MSGID_ITEM = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"
_MSGID = b"BODY[HEADER.FIELDS (MESSAGE-ID)]"


class LeaseLost(Exception):
    """Another runner owns this mailbox now (or raced us to the same UIDs): stop quietly."""


def payload_path(mailbox: Mailbox, folder: str, uidvalidity: int, uid: int) -> str:
    return f"imap:{mailbox.pk}:{uidvalidity}:{uid}:{folder}"[:500]


def sync(mailbox: Mailbox, client: IMAPClient, *, renew: Callable[[], bool] = lambda: True,
         progress: Callable[[int, int], None] | None = None) -> int:
    """Import what is new in the mailbox's folder; returns how many mails were stored."""
    folder = mailbox.folder or "INBOX"
    uidvalidity = imap.select(client, mailbox, folder)
    state, _created = MailboxFolder.objects.get_or_create(mailbox=mailbox, name=folder)
    first_sync = state.uidvalidity is None
    resync = not first_sync and state.uidvalidity != uidvalidity
    if first_sync or resync:
        if resync:
            log.warning("mailbox %s folder %s: UIDVALIDITY %s -> %s, resyncing by Message-ID",
                        mailbox.pk, folder, state.uidvalidity, uidvalidity)
        state.uidvalidity, state.last_uid = uidvalidity, 0
        state.save(update_fields=["uidvalidity", "last_uid"])
    finish_pending(mailbox, client, folder, uidvalidity)

    criteria: list = ["UID", f"{state.last_uid + 1}:*"]
    if mailbox.import_since:
        criteria += ["SINCE", mailbox.import_since]
    # "n:*" always matches the last message, even below n: keep only what is really new.
    uids = sorted(uid for uid in client.search(criteria) if uid > state.last_uid)
    adapter = HISTORY_ADAPTER if state.last_uid == 0 and (first_sync or resync) else ADAPTER
    stored = done = 0
    for chunk in _batches(client, uids):
        if not renew():
            raise LeaseLost("the lease was taken over")
        stored += _import_batch(mailbox, client, state, uidvalidity, chunk, adapter, dedupe_first=resync)
        done += len(chunk)
        if progress:
            progress(done, len(uids))
    return stored


def _batches(client: IMAPClient, uids: list[int]):
    """UIDs in fetch batches of at most BATCH mails and BATCH_BYTES (sizes asked first, one
    short line per mail), so a mailbox of large attachments never sits in memory at once."""
    for start in range(0, len(uids), 1000):
        window = uids[start:start + 1000]
        sizes = {uid: int(data.get(b"RFC822.SIZE", 0)) for uid, data in client.fetch(window, ["RFC822.SIZE"]).items()}
        chunk, total = [], 0
        for uid in window:
            size = sizes.get(uid, 0)
            if chunk and (len(chunk) >= BATCH or total + size > BATCH_BYTES):
                yield chunk
                chunk, total = [], 0
            chunk.append(uid)
            total += size
        if chunk:
            yield chunk


def _import_batch(mailbox, client, state, uidvalidity, uids, adapter, dedupe_first) -> int:
    folder = state.name
    known: dict[int, str] = {}
    if dedupe_first:
        # A renumbered folder: read only the Message-IDs first, download just the unknown mails.
        ids = {uid: _message_id(data.get(_MSGID, b"")) for uid, data in client.fetch(uids, [_MSGID_ITEM]).items()}
        seen = _already_imported(mailbox, [i for i in ids.values() if i])
        known = {uid: mid for uid, mid in ids.items() if mid and mid in seen}
    wanted = [uid for uid in uids if uid not in known]
    fetched = client.fetch(wanted, ["BODY.PEEK[]", _MSGID_ITEM]) if wanted else {}
    missing = [uid for uid in wanted if _BODY not in fetched.get(uid, {})]
    if missing:
        # Expunged between SEARCH and FETCH (another client moved them): nothing to import.
        log.info("mailbox %s: UIDs %s vanished before FETCH", mailbox.pk, missing[:10])
    mails = [(uid, fetched[uid][_BODY], _message_id(fetched[uid].get(_MSGID, b"")))
             for uid in wanted if uid not in missing]
    if not dedupe_first:
        seen = _already_imported(mailbox, [mid for _uid, _raw, mid in mails if mid])
        for uid, _raw, mid in mails:
            if mid and mid in seen:
                known[uid] = mid
        mails = [m for m in mails if m[0] not in known]

    try:
        with transaction.atomic():
            payloads = InboundPayload.objects.bulk_create([
                InboundPayload(adapter=adapter, path=payload_path(mailbox, folder, uidvalidity, uid),
                               content_type="message/rfc822", headers={"mailbox": mailbox.pk}, body=raw)
                for uid, raw, _mid in mails])
            rows = [ImportedMail(mailbox=mailbox, folder=folder, uidvalidity=uidvalidity, uid=uid,
                                 message_id=mid[:255], payload=payload)
                    for (uid, _raw, mid), payload in zip(mails, payloads, strict=True)]
            rows += [ImportedMail(mailbox=mailbox, folder=folder, uidvalidity=uidvalidity, uid=uid,
                                  message_id=mid[:255]) for uid, mid in known.items()]
            ImportedMail.objects.bulk_create(rows)
            state.last_uid = max(uids)
            MailboxFolder.objects.filter(pk=state.pk).update(last_uid=state.last_uid)
    except IntegrityError as exc:
        # Unique (mailbox, folder, uidvalidity, uid): someone else committed these first.
        raise LeaseLost("another runner stored these UIDs first") from exc
    for payload in payloads:
        _process(payload)
    _server_action(mailbox, client, [row.uid for row in rows])
    ImportedMail.objects.filter(mailbox=mailbox, folder=folder, uidvalidity=uidvalidity,
                                uid__in=[row.uid for row in rows]).update(server_done=True)
    return len(payloads)


def _process(payload: InboundPayload) -> None:
    try:
        services.process_request(payload)
    except Exception:  # noqa: BLE001 - kept as FAILED for replay (replay_inbound); the rest flows
        log.warning("mailbox payload %s failed; kept for replay", payload.pk)


def finish_pending(mailbox: Mailbox, client: IMAPClient, folder: str, uidvalidity: int) -> None:
    """What a crash (or a failed flag/move) left half-done on the last pass."""
    pending = ImportedMail.objects.filter(mailbox=mailbox, folder=folder, server_done=False)
    unprocessed = InboundPayload.objects.filter(
        pk__in=pending.exclude(payload=None).values("payload"), state=InboundPayload.State.RECEIVED)
    for payload in unprocessed:
        _process(payload)
    uids = list(pending.filter(uidvalidity=uidvalidity).values_list("uid", flat=True))
    for start in range(0, len(uids), BATCH):
        chunk = uids[start:start + BATCH]
        _server_action(mailbox, client, chunk)
        pending.filter(uidvalidity=uidvalidity, uid__in=chunk).update(server_done=True)
    # Rows of an older epoch name UIDs that no longer exist: nothing left to do on the server.
    pending.exclude(uidvalidity=uidvalidity).update(server_done=True)


def _server_action(mailbox: Mailbox, client: IMAPClient, uids: list[int]) -> None:
    if not uids or mailbox.after_import == Mailbox.AfterImport.LEAVE:
        return
    if mailbox.after_import == Mailbox.AfterImport.MOVE and mailbox.move_to:
        imap.move(client, uids, mailbox.move_to)
    else:
        client.add_flags(uids, [SEEN], silent=True)


def _already_imported(mailbox: Mailbox, message_ids: list[str]) -> set[str]:
    if not message_ids:
        return set()
    return set(ImportedMail.objects.filter(mailbox=mailbox, message_id__in=message_ids)
               .values_list("message_id", flat=True))


def _message_id(header_block: bytes) -> str:
    """The <id> from a 'Message-ID: <id>' header block (folded or not), or ''."""
    text = header_block.decode("latin-1").replace("\r\n", "").replace("\n", "")
    start, end = text.find("<"), text.find(">")
    return text[start:end + 1].strip() if 0 <= start < end else ""
