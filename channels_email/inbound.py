"""One parsed email (an AnymailInboundMessage, from an ESP or the MTA pipe) -> the seam's
InboundMessage, or DeliveryUpdates for a bounce, or Quarantined.

Every ESP and the pipe come through here, so threading, noise rules and parsing are the same
whichever way the mail arrived.
"""

from __future__ import annotations

import hashlib
import logging
from email.message import Message as EmailMessage

from django.utils.translation import gettext as _

from channels_email import conf, mime, noise, tokens
from channels_email.quotes import Split, split_reply
from channels_email.reply_patterns import REPLY_SUBJECT
from channels_email.reply_sent import sent_texts
from tickets.channels import InboundAttachment, InboundMessage, Quarantined, ThreadHints
from tickets.sanitize import sanitize_bounded

log = logging.getLogger(__name__)


def check_size(size: int) -> None:
    if size > conf.max_bytes():
        raise Quarantined(_("oversize mail: %(size)d bytes, the limit is %(limit)d bytes")
                          % {"size": size, "limit": conf.max_bytes()})


def to_items(msg: EmailMessage, *, adapter_key: str, raw: bytes = b"", size: int | None = None,
             envelope_sender: str | None = None, stripped_text: str | None = None,
             spam_score: float | None = None, release: bool = False) -> list:
    """`release`: an admin let this mail through the quarantine; the soft checks (flooding,
    loops) are skipped, the parser is not."""
    if not release:
        check_size(len(raw) if size is None else size)
    report = noise.delivery_report(msg, raw)
    if report is not None:
        return report
    sender_name, sender = _sender(msg)
    reason = noise.auto_generated(msg, sender)
    if not release:
        if sender in conf.own_addresses():
            raise Quarantined(_("mail from our own address %(address)s (a loop?)") % {"address": sender})
        if noise.is_bounce_address(sender):
            raise Quarantined(_("a notice from %(address)s without a delivery report") % {"address": sender})
        if noise.flooding(sender):
            raise Quarantined(_("more than %(limit)d messages from %(address)s in the last hour")
                              % {"limit": conf.sender_hourly_limit(), "address": sender})
    try:
        return [_message(msg, adapter_key, raw, sender, sender_name, reason, stripped_text, spam_score)]
    except Quarantined:
        raise
    except Exception as exc:  # noqa: BLE001 - unparseable mail is quarantined, never lost
        log.exception("unparseable email from %s", sender)
        raise Quarantined(_("unparseable mail: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}) from exc


def _sender(msg: EmailMessage) -> tuple[str, str]:
    """The From address, and only it: Reply-To, Sender, Return-Path and the envelope are set by
    whoever sends, so falling back to them lets a mail with a broken From speak for anyone.
    No From address, or several different ones, and the mail is quarantined for a person."""
    found = mime.addresses(msg, "From")
    if len({address for _name, address in found}) != 1:
        raise Quarantined(_("no single parseable From address (%(value)s)")
                          % {"value": " / ".join(mime.header_all(msg, "From"))[:300] or _("missing")})
    name, address = found[0]
    if "@" in name and address not in name.lower():
        name = ""  # "victim@corp.test" <mallory@evil.test>: show the address, not the claim
    return name, address


def _message(msg, adapter_key, raw, sender, sender_name, auto_reason, stripped_text, spam_score):
    subject = mime.header(msg, "Subject")
    body = mime.body(msg)
    html = body.html
    full_text = body.text or (mime.html_to_text(html) if html else "")
    ids = mime.message_ids(mime.header(msg, "In-Reply-To")) + mime.message_ids(mime.header(msg, "References"))
    recipients_all = mime.addresses(msg, "To", "Cc")  # parsed once: address parsing is a slow part of email
    recipients = recipients_all + mime.addresses(msg, "Delivered-To", "X-Original-To")
    ticket_id = tokens.ticket_from_message_ids(ids) or tokens.ticket_from_addresses(a for _n, a in recipients)
    meta = {"message_id": mime.header(msg, "Message-ID")[:998]}
    text = ""
    if full_text or html:
        # Our own layers, not the ESP's stripped text: they know what we sent, and they keep the
        # signature (split off, not deleted).
        # Only a reply can quote what we sent (threading headers, our reply address or "Re:").
        replying = ticket_id or ids or REPLY_SUBJECT.match(subject)
        sent = sent_texts(ticket_id=ticket_id, sender=sender) if replying else ()
        try:
            split = split_reply(body.text, html, sent)
        except Exception:  # noqa: BLE001 - a splitter bug must not quarantine mail: show it whole
            log.exception("reply split failed for mail from %s; showing it whole", sender)
            split = Split(visible=full_text.replace("\r\n", "\n").strip())
        text = split.visible
        if split.signature:
            meta["signature"] = split.signature
        if split.quoted:
            meta["quoted_text"] = split.quoted
    elif stripped_text:
        text = stripped_text
    # The splitter answers with LF line endings; CRLF as on the wire is not a difference (else
    # every multi-line CRLF mail lost its HTML, Outlook's inline images with it).
    if text.strip() != full_text.replace("\r\n", "\n").strip():
        # The visible reply is what the agent reads; the full original stays one click away.
        meta["original_text"] = full_text
        if html:
            original_html, dropped = sanitize_bounded(html)  # bounded: hostile HTML is not parsed
            meta["original_html"] = str(original_html)
            if dropped:
                meta["html_dropped"] = dropped
            html = ""
    own = conf.own_addresses()
    others = sorted({a for _n, a in recipients_all
                     if a != sender and a not in own and "+t" not in a.partition("@")[0]
                     and a.rpartition("@")[2] != conf.support_domain()})
    if others:
        meta["cc"] = others
    if auto_reason:
        meta["auto_submitted"] = auto_reason
    # The writer's language, as the mail client declared it (tickets.language reads either).
    if lang := mime.header(msg, "Content-Language") or mime.header(msg, "Accept-Language"):
        meta["language"] = lang[:100]
    if spam_score is not None:
        meta["spam_score"] = spam_score
    hints = ThreadHints(ticket_id=ticket_id, reply_to_external_ids=tuple(dict.fromkeys(ids))[-20:],
                        related_ticket_id=tokens.subject_ticket(subject),
                        join_open_ticket=False)  # a fresh email is a fresh ticket, as in Zendesk
    return InboundMessage(
        channel="email", adapter=adapter_key, external_id=_external_id(msg, raw),
        sender=sender, sender_name=sender_name[:200], subject=subject[:300], text=text, html=html,
        attachments=tuple(InboundAttachment(filename=name, content_type=ctype, content=content,
                                            content_id=cid, inline=inline)
                          for name, ctype, content, cid, inline in body.attachments),
        hints=hints, timestamp=_date(msg), meta=meta, recipient=_support_recipient(recipients, own),
    )


def _support_recipient(recipients, own) -> str:
    """The support address the customer wrote to (To, Cc, then Delivered-To/X-Original-To): it
    names the ticket's inbox. Our reply plus-address (support+t12-...) counts as its base
    address; mail to none of ours (a Bcc, a forward) comes in through the default inbox."""
    for _name, address in recipients:
        local, _at, host = address.partition("@")
        base = f"{local.partition('+')[0]}@{host}"
        if base in own:
            return base
    return ""


def _external_id(msg: EmailMessage, raw: bytes) -> str:
    """The Message-ID; mail without one (or with an absurd one) gets a stable id from its
    bytes, so a replayed delivery is still recognised."""
    ids = mime.message_ids(mime.header(msg, "Message-ID"))
    if ids and len(ids[0]) <= 255:
        return ids[0]
    digest = hashlib.sha256(raw or msg.as_bytes()).hexdigest()
    return f"<{digest}@no-message-id.invalid>"


def _date(msg: EmailMessage):
    from email.utils import parsedate_to_datetime

    try:
        value = parsedate_to_datetime(mime.header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value
