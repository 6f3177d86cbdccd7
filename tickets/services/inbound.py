"""Inbound: a customer message enters the model (ingest), and media finishes downloading."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from tickets import events, language, sql
from tickets.addresses import normalise_address
from tickets.channels import InboundMessage
from tickets.event_bodies import message_data, ticket_data
from tickets.models import Customer, Identity, Message, Ticket
from tickets.sanitize import SanitisedHtml, sanitize_bounded
from tickets.services import acknowledgements, participants
from tickets.services.attachments import store_attachments

log = logging.getLogger(__name__)

Status = Ticket.Status



@dataclass(frozen=True)
class IngestResult:
    message: Message
    created: bool  # False: a replay of a message we already had; nothing was published
    ticket_created: bool = False



def prepare(msg: InboundMessage) -> InboundMessage:
    """The slow, lock-free part of ingesting, done before any write transaction: sanitise the
    HTML within bounds (beyond them it is dropped and meta["html_dropped"] says why). Webhook
    processing calls it for every item before its transaction; ingest() for direct callers."""
    if not msg.html or isinstance(msg.html, SanitisedHtml):
        return msg
    html, dropped = sanitize_bounded(msg.html)
    return dataclasses.replace(msg, html=html, meta={**msg.meta, "html_dropped": dropped} if dropped else msg.meta)


def ingest(msg: InboundMessage) -> IngestResult:
    """The only way a customer message enters. Idempotent on (channel, external_id) *from the
    same sender*: a message reusing another sender's id (a Message-ID is chosen by whoever
    sends the mail) is stored as a new message, flagged, never dropped as a replay."""
    msg = prepare(msg)
    sender = normalise_address(msg.channel, msg.sender)
    for attempt in range(3):  # lost races: the original id, then our collision id, then found
        msg, existing = _deduplicate(msg, sender)
        if existing is not None:
            return IngestResult(existing, created=False)
        try:
            with transaction.atomic(savepoint=_needs_savepoints()):
                return _ingest(msg, sender)
        except IntegrityError:
            # A concurrent ingest committed this id first and ours rolled back whole: the same
            # message (a replay, found above next time round) or another sender's (a collision:
            # stored under our own id next time round).
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _deduplicate(msg: InboundMessage, sender: str) -> tuple[InboundMessage, Message | None]:
    """(the message to store, the stored one when this is a replay). A stored message with this
    id from someone else (another sender, or one of our own outbound messages) is a collision:
    the newcomer gets an id of its own, derived from the sender so that its replays are still
    recognised, and says so in meta."""
    found = _stored(msg.channel, msg.external_id)
    if found is None:
        return msg, None
    pk, direction, address = found
    if direction == Message.Direction.INBOUND and address in (sender, None):  # None: identity erased
        return msg, _stored_message(pk)
    own_id = collision_id(msg.external_id, sender)
    log.warning("%s message %s reuses the id of message %s from another sender: stored as %s",
                msg.channel, msg.external_id, pk, own_id)
    msg = replace(msg, external_id=own_id,
                  meta={**msg.meta, "id_collision": {"external_id": msg.external_id, "message": pk}})
    found = _stored(msg.channel, own_id)
    return msg, (_stored_message(found[0]) if found is not None else None)


def collision_id(external_id: str, sender: str) -> str:
    digest = hashlib.sha256(f"{external_id}\n{sender}".encode()).hexdigest()[:16]
    return f"{external_id[:200]}#collision-{digest}"


def _needs_savepoints() -> bool:
    """Whether the race handling below needs a savepoint when called inside a transaction.

    The savepoints let the loser of a concurrent insert roll back just its attempt and re-read
    the winner's row. SQLite with IMMEDIATE transactions (our settings) takes the write lock at
    BEGIN, so inside a transaction nobody else can have inserted since our lookups: there is no
    race to lose, and a savepoint pair cost ~8% of an email's ingest. Outside a transaction the
    atomic block is a whole transaction either way."""
    db = connection.settings_dict
    return not (connection.vendor == "sqlite" and db.get("OPTIONS", {}).get("transaction_mode") == "IMMEDIATE")


def _stored(channel: str, external_id: str) -> tuple[int, str, str | None] | None:
    """(id, direction, sender address) of the message stored under this id, if any."""
    return sql.stored_message(channel, external_id)


def _stored_message(pk: int) -> Message:
    return Message.objects.select_related("ticket").get(pk=pk)


def _ingest(msg: InboundMessage, sender: str) -> IngestResult:
    now = timezone.now()
    # Serialise everything a customer sends: without this, two first messages arriving at once
    # would each open a ticket. Locking the customer row makes the second wait and then see the
    # first one's ticket. A known sender (nearly every message): the identity is read and its
    # customer locked in one statement (SQLite: IMMEDIATE transactions already serialise).
    identity = sql.identity_locking_customer(msg.channel, sender)
    if identity is not None:
        _fill_display_name(identity, msg.sender_name)
    else:
        identity = resolve_identity(msg.channel, sender, msg.sender_name, linked=msg.linked_identities,
                                    inbound_at=now)
        sql.lock(Customer, id=identity.customer_id)
    customer_id = identity.customer_id

    if msg.identity_signal:
        apply_identity_signal(identity, msg.identity_signal, now)
    if msg.replaces:
        return _apply_edit(msg, customer_id)
    for hook in inbound_hooks():
        try:
            consumed = hook(msg, identity)
        except Exception:
            # A hook's bug never loses a customer's message: it is threaded as usual. (A hook
            # writes inside its own atomic block, so a failure leaves nothing half-written.)
            log.exception("inbound hook %s failed on %s message %s", hook, msg.channel, msg.external_id)
            continue
        if consumed is not None:  # e.g. a survey answer, filed by the hook (services.file_aside)
            return IngestResult(consumed, created=True)

    ticket, ticket_created, reopened = _find_ticket(msg, identity, customer_id, now)
    message = sql.insert(Message(
        # The ticket's customer: a participant's reply belongs to that conversation's history.
        ticket=ticket, customer_id=ticket.customer_id, direction=Message.Direction.INBOUND,
        channel=msg.channel, adapter=msg.adapter_key, identity=identity,
        author_name=msg.sender_name or identity.display_name or sender,
        subject=msg.subject[:300], text=msg.text, html=str(msg.html),
        external_id=msg.external_id, status=Message.Status.RECEIVED,
        provider_timestamp=msg.timestamp, meta=msg.meta,
    ))
    attachments = store_attachments(message, msg.attachments)  # media URLs: fetched after commit

    status_before = ticket.status
    if not ticket_created:  # a new ticket was inserted with these already
        ticket.last_customer_message_at = now
        if ticket.waiting_since is None:
            ticket.waiting_since = now
        if ticket.status in (Status.PENDING, Status.SOLVED):
            ticket.status = Status.OPEN
        sql.update(ticket, ("last_customer_message_at", "waiting_since", "status", "updated_at"))
    if identity.last_inbound_at is None or now - identity.last_inbound_at > timedelta(seconds=60):
        # Minute precision is all the 24-hour-window checks need; skip the write in a burst.
        identity.last_inbound_at = now
        sql.update(identity, ("last_inbound_at",))

    # message.created carries the ticket id, which is all a queue needs to move a row; a
    # separate ticket event only when the ticket itself appeared or changed state.
    changes = []
    if ticket_created:
        changes.append(dict(kind="ticket.created", ticket=ticket, data=ticket_data(ticket)))
    elif status_before != ticket.status:
        changes.append(dict(kind="ticket.updated", ticket=ticket, data=ticket_data(ticket)))
    changes.append(dict(kind="message.created", ticket=ticket, message=message, public=True,
                        data=message_data(message, attachments)))
    events.record_many(*changes)
    if msg.cc:
        participants.add_copied(message, ticket_created, msg.cc)
    if msg.acknowledge and ticket_created:
        acknowledgements.acknowledge(message)
    return IngestResult(message, created=True, ticket_created=ticket_created)


def inbound_hooks() -> list:
    """HELPDESK_INBOUND_HOOKS: dotted paths of callables(InboundMessage, Identity) run inside
    ingest's transaction, after the identity is resolved and before threading. A hook returns
    the Message it filed when it consumed the message (a survey answer), else None, and then
    the message is threaded as usual. Called for every inbound message: a hook must cost
    nothing when it has no business with the identity (check a flag on identity.meta first)."""
    paths = tuple(getattr(settings, "HELPDESK_INBOUND_HOOKS", ()))
    return _import_hooks(paths) if paths else []


@functools.cache
def _import_hooks(paths: tuple[str, ...]) -> list:
    hooks = []
    for path in paths:
        try:
            hooks.append(import_string(path))
        except ImportError:
            # Bad configuration never stops ingest: logged once (cached), and skipped.
            log.exception("HELPDESK_INBOUND_HOOKS: cannot import %r; it is skipped", path)
    return hooks


def resolve_identity(channel: str, address: str, name: str = "", linked=(), inbound_at=None) -> Identity:
    """The identity for (channel, address), creating it and its customer if new. Safe under
    races: the loser of a concurrent insert re-reads the winner's row. `inbound_at`: a new
    identity is created with it as its last inbound time (ingest would set it next anyway)."""
    identity = sql.get(Identity, channel=channel, address=address)
    if identity is not None:
        _fill_display_name(identity, name)
        return identity
    owner = _linked_customer(linked)
    try:
        with transaction.atomic(savepoint=_needs_savepoints()):
            customer = owner or sql.insert(Customer(name=name[:200]))
            return sql.insert(Identity(
                customer=customer, channel=channel, address=address, display_name=name[:200],
                last_inbound_at=inbound_at,
            ))
    except IntegrityError:
        return Identity.objects.get(channel=channel, address=address)


def _fill_display_name(identity: Identity, name: str) -> None:
    """An identity first seen without a name (an SMS) takes the first one a channel gives."""
    if name and not identity.display_name:
        Identity.objects.filter(pk=identity.pk).update(display_name=name[:200])


def _linked_customer(linked) -> Customer | None:
    """A provider-vouched link (the WhatsApp WaId *is* the phone number): the new identity
    joins the customer already reachable there. Never a fuzzy match."""
    query = Q()
    for channel, address in linked:
        try:
            query |= Q(channel=channel, address=normalise_address(channel, address))
        except ValueError:
            continue
    if not query:
        return None
    found = Identity.objects.filter(query).select_related("customer").order_by("pk").first()
    return found.customer if found else None


def _is_participant(ticket: Ticket, identity: Identity) -> bool:
    """The customer, anyone who already wrote on the ticket, or an address the ticket lists as
    a participant (a cc, a chat visitor's contact email) may add to it."""
    if ticket.customer_id == identity.customer_id:
        return True
    if [identity.channel, identity.address] in ticket.meta.get("participants", []):
        return True
    return sql.has_written_on(ticket.pk, identity.pk)


def _find_ticket(msg: InboundMessage, identity: Identity, customer_id: int, now):
    """Thread hints first, then the customer's latest ticket on this channel, else a new one.
    Returns (ticket, created, reopened). A closed ticket is never reopened."""
    hints = msg.hints
    candidate = None
    if hints.ticket_id:
        candidate = sql.get(Ticket, id=hints.ticket_id)
    if candidate is None and hints.reply_to_external_ids:
        candidate = sql.ticket_for_reply_ids(msg.channel, hints.reply_to_external_ids)
    if candidate is None and hints.session:
        candidate = (Ticket.objects.filter(customer_id=customer_id, channel=msg.channel,
                                           meta__session=hints.session).order_by("-pk").first())
    related = None
    if candidate is not None and not _is_participant(candidate, identity):
        log.warning("thread hint names ticket %s but %s is not a participant: new ticket",
                    candidate.pk, identity)
        related, candidate = candidate, None
    if candidate is None and hints.join_open_ticket and not hints.session:
        candidate = sql.latest_ticket(customer_id, msg.channel)
    if candidate is not None and candidate.status == Status.CLOSED:
        related, candidate = candidate, None
    if candidate is not None:
        return candidate, False, candidate.status in (Status.SOLVED, Status.PENDING)
    if related is None and hints.related_ticket_id:
        related = sql.get(Ticket, id=hints.related_ticket_id)
    meta = {"session": hints.session} if hints.session else {}
    # The customer's language (the channel's hint, else a guess from the text): surveys write
    # in it and routing rules can test it (tickets.language).
    if lang := language.language_for(msg.subject, msg.text, msg.meta.get("language", "")):
        meta["language"] = lang
    ticket = sql.insert(Ticket(
        customer_id=customer_id, subject=(msg.subject or _first_line(msg.text))[:300],
        channel=msg.channel, inbox=msg.inbox, related_to=related, meta=meta,
        last_customer_message_at=now, waiting_since=now,
    ))
    return ticket, True, False


def _first_line(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:80]


def apply_identity_signal(identity: Identity, signal: str, now) -> None:
    """An opt-out (STOP, or a provider refusing to send for that reason) or an opt-in (START)."""
    if signal == "opt_out":
        identity.opted_out_at = now
    elif signal == "opt_in":
        identity.opted_out_at = None
    else:
        return
    identity.save(update_fields=["opted_out_at"])
    events.record("identity.updated", customer=identity.customer,
                  data={"identity": identity.pk, "channel": identity.channel,
                        "opted_out": identity.opted_out_at is not None})


def _apply_edit(msg: InboundMessage, customer_id: int) -> IngestResult:
    original = Message.objects.select_for_update().filter(
        channel=msg.channel, external_id=msg.replaces, customer_id=customer_id).first()
    if original is None:
        # The original never reached us: keep the edit as a message in its own right.
        return _ingest(InboundMessage(**{**msg.__dict__, "replaces": ""}),
                       normalise_address(msg.channel, msg.sender))
    edits = original.meta.setdefault("edits", [])
    if any(e.get("id") == msg.external_id for e in edits):
        return IngestResult(original, created=False)
    edits.append({"id": msg.external_id, "previous_text": original.text,
                  "at": (msg.timestamp or timezone.now()).isoformat()})
    original.text = msg.text
    if msg.html:
        original.html = str(msg.html)  # sanitised by prepare(), before the transaction
    original.save(update_fields=["text", "html", "meta"])
    events.record("message.updated", ticket=original.ticket, message=original, public=True,
                  data=message_data(original))
    return IngestResult(original, created=False)
