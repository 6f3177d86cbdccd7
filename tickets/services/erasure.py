"""Erasing a customer (GDPR art. 17): every row that says who they are or what they wrote goes,
and the tickets stay, anonymised, so the team's figures (volumes, reply and resolution times)
do not change.

What is erased, for the customer and every customer merged into them (same person):
  * messages on their tickets, and the ones they wrote on other tickets (as a Cc'd participant):
    text, HTML, subject, author name, provider id, meta, error text; rows and times stay;
  * attachments: rows now, files on disk after commit (a rollback must not lose files);
  * raw inbound payloads that mention any of their addresses;
  * identities, and their addresses among other tickets' participants;
  * tickets: subject and meta; customer rows: name, organisation, notes; merge reasons;
  * the event log: every event of their tickets, messages or customer rows (the console's
    replay and the outgoing webhooks read events).
Then one `customer.erased` event (ids only) tells consoles and outgoing webhooks.

Only the domain lives here; `privacy` orchestrates (audit record, other apps' providers)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from tickets import events
from tickets.models import (
    Attachment,
    Customer,
    CustomerMerge,
    Event,
    Identity,
    InboundPayload,
    Message,
    Ticket,
)

log = logging.getLogger(__name__)

PAYLOAD_SCAN_BATCH = 100


@dataclass
class Erased:
    """What erase_customer() did: ids and counts, never a name, address or text."""

    customer: int
    customers: list[int]
    tickets: list[int]
    counts: dict[str, int] = field(default_factory=dict)


def family(customer: Customer) -> list[int]:
    """The customer and every customer merged into them, transitively: one person's rows."""
    ids, frontier = [customer.pk], [customer.pk]
    while frontier:
        frontier = [pk for pk in Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
                    if pk not in ids]
        ids += frontier
    return ids


@dataclass(frozen=True)
class Needles:
    """The person's addresses as they may appear in a raw request. `words`
    (lower-case bytes) find candidates fast (a plain substring search); `pattern` then insists
    on whole tokens, so one phone number never matches inside a longer one."""

    words: tuple[bytes, ...]
    pattern: re.Pattern

    def found_in(self, data: bytes) -> bool:
        data = data.lower()
        return any(word in data for word in self.words) and self.pattern.search(data) is not None


@dataclass
class PayloadScan:
    """Raw payloads found mentioning the person, read *before* the erasure's write transaction:
    reading every stored request takes a while, and SQLite lets nobody write meanwhile."""

    needles: Needles | None
    doomed: list[int]
    scanned_up_to: int


def scan_payloads(customer: Customer) -> PayloadScan:
    needles = _needles(Identity.objects.filter(customer_id__in=family(customer)))
    doomed, last = _scan(needles, after=0)
    return PayloadScan(needles, doomed, last)


def erase_customer(customer: Customer, scan: PayloadScan | None = None) -> Erased:
    """Erase one person across every channel, in one transaction (see the module docstring).
    `scan`: scan_payloads() of the same customer, run before the caller's transaction."""
    scan = scan or scan_payloads(customer)
    with transaction.atomic():
        # Lock the rows first: an ingest for this customer waits, then finds no identity and
        # starts a fresh customer (SQLite's IMMEDIATE transaction serialises writers already).
        ids = family(customer)
        list(Customer.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
        identities = list(Identity.objects.filter(customer_id__in=ids))
        ticket_ids = list(Ticket.objects.filter(customer_id__in=ids).values_list("pk", flat=True))
        identity_ids = [i.pk for i in identities]
        message_ids = list(Message.objects.filter(
            Q(customer_id__in=ids) | Q(ticket_id__in=ticket_ids) | Q(identity_id__in=identity_ids))
            .values_list("pk", flat=True))
        # What arrived since the scan (or everything, if they gained an address meanwhile).
        needles = _needles(identities)
        if needles is not None and needles != scan.needles:
            scan = PayloadScan(needles, [], 0)
        doomed = scan.doomed + _scan(needles, after=scan.scanned_up_to)[0]

        counts = {
            "payloads": InboundPayload.objects.filter(pk__in=doomed).delete()[0] if doomed else 0,
            "events": Event.objects.filter(
                Q(customer_id__in=ids) | Q(ticket_id__in=ticket_ids) | Q(message_id__in=message_ids)).delete()[0],
            "attachments": _delete_attachments(message_ids),
            "messages": Message.objects.filter(pk__in=message_ids).update(
                text="", html="", subject="", author_name="", external_id=None, identity=None, meta={},
                error_message=""),
            "participants": _forget_participants(identities, exclude=ticket_ids),
            "tickets": Ticket.objects.filter(pk__in=ticket_ids).update(subject="", meta={"erased": True}),
            "identities": Identity.objects.filter(pk__in=identity_ids).delete()[0],
            "customers": Customer.objects.filter(pk__in=ids).update(
                name=gettext("Erased customer"), organisation="", notes=""),
            "merge_reasons": CustomerMerge.objects.filter(Q(source_id__in=ids) | Q(target_id__in=ids))
            .exclude(reason="").update(reason=""),
        }
        events.record("customer.erased", customer=customer,
                      data={"customer": customer.pk, "customers": ids, "tickets": ticket_ids})
    log.info("customer %s erased: %s", customer.pk, counts)
    return Erased(customer=customer.pk, customers=ids, tickets=ticket_ids, counts=counts)


def _delete_attachments(message_ids: list[int]) -> int:
    rows = Attachment.objects.filter(message_id__in=message_ids)
    names = [name for name in rows.values_list("file", flat=True) if name]
    deleted = rows.delete()[0]
    # Files go after commit: a rolled-back erasure must leave every attachment readable.
    transaction.on_commit(lambda: delete_files(names), robust=True)
    return deleted


def delete_files(names) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.exception("could not delete attachment file %s (erased customer); delete it by hand", name)


def _needles(identities) -> Needles | None:
    """What finds this person in a raw provider request: their addresses, as written raw or
    URL-encoded (Twilio posts forms), case-insensitive (mail headers). Addresses, not message
    ids: every provider's request about a message names its sender or recipient too (From/To,
    sender.id, chat.id, recipient_id), and a customer's hundreds of message ids would make the
    scan of every stored request twenty times slower (measured)."""
    from urllib.parse import quote, quote_plus

    words = set()
    for value in (i.address for i in identities):
        value = value.strip()
        if len(value) < 4:  # too short to name anyone; would match everywhere
            continue
        words |= {value, quote(value, safe=""), quote_plus(value)}
        if value.startswith("+"):
            words.add(value[1:])  # E.164 without '+' (WhatsApp's wa_id, some providers)
    if not words:
        return None
    ordered = sorted({w.lower() for w in words}, key=len, reverse=True)
    # A percent-escape starts a token by itself ("whatsapp%3A%2B1415..."): no look-behind there.
    escaped = "|".join(re.escape(w) for w in ordered if w.startswith("%")) or "(?!)"
    plain = "|".join(re.escape(w) for w in ordered if not w.startswith("%")) or "(?!)"
    return Needles(tuple(w.encode() for w in ordered),
                   re.compile(rf"(?:(?:{escaped})|(?<![\w.+-])(?:{plain}))(?![\w])".encode()))


def _scan(needles: Needles | None, after: int) -> tuple[list[int], int]:
    """Ids of payloads after `after` that match, and the last id read. Raw payloads are kept
    verbatim (a batched Meta webhook may hold several people): one that mentions this person is
    deleted whole. In small batches (a payload can be a 25 MB mail); retention keeps the table short."""
    found, last = [], after
    if needles is None:
        return found, last
    while True:
        batch = list(InboundPayload.objects.filter(pk__gt=last).order_by("pk")
                     .values_list("pk", "body", "headers")[:PAYLOAD_SCAN_BATCH])
        if not batch:
            return found, last
        for pk, body, headers in batch:
            if needles.found_in(bytes(body)) or needles.found_in(repr(headers).encode()):
                found.append(pk)
        last = batch[-1][0]


def _forget_participants(identities: list[Identity], exclude: list[int]) -> int:
    """Their addresses among other customers' tickets' participants (Cc'd on someone's mail)."""
    entries = [[i.channel, i.address] for i in identities]
    changed = 0
    for ticket in Ticket.objects.filter(meta__has_key="participants").exclude(pk__in=exclude).only("pk", "meta"):
        participants = ticket.meta.get("participants") or []
        kept = [p for p in participants if p not in entries]
        if len(kept) != len(participants):
            ticket.meta["participants"] = kept
            Ticket.objects.filter(pk=ticket.pk).update(meta=ticket.meta)
            changed += 1
    return changed
