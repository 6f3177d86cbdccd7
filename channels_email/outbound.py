"""Composing the mail for an agent's reply (and for acknowledgements) and sending it through
Django's mailers (MAILERS: anymail ESP, SMTP, or the file backend by default).

Threading headers carry our HMAC token; the Reply-To is the ticket's plus-address. Every
header value is built from data we control or passed through Django's EmailMessage, which
refuses CR/LF in headers, so no field can inject a header.
"""

from __future__ import annotations

import smtplib
from email.utils import formataddr

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.html import linebreaks

from channels_email import conf, tokens
from tickets import automated
from tickets.channels import PermanentDeliveryError, TransientDeliveryError
from tickets.models import Message
from tickets.services.outbound import email_cc


def _one_line(value: str) -> str:
    return " ".join((value or "").split())


def subject_for(ticket, subject: str = "") -> str:
    subject = _one_line(subject or ticket.subject) or f"Ticket {ticket.reference}"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    tag = tokens.subject_tag(ticket.pk)
    return subject if tag in subject else f"{subject} {tag}"


def thread_ids(ticket, before: Message | None = None) -> list[str]:
    """Message-IDs of the ticket's email conversation, oldest first (for References)."""
    query = ticket.messages.filter(channel="email", external_id__isnull=False)
    if before is not None and before.pk:
        query = query.filter(pk__lt=before.pk)
    ids = list(query.order_by("-pk").values_list("external_id", flat=True)[:20])
    return [i for i in reversed(ids) if i.startswith("<") and i.endswith(">")]


def sender_address(display: str = "", address: str = "") -> str:
    address = address or conf.support_address()
    return formataddr((_one_line(display), address)) if display else address


def build_reply(message: Message, address: str = "") -> EmailMultiAlternatives:
    """`address`: the support address the customer wrote to (a mailbox), else ours; the mail
    comes from it and its Reply-To carries the ticket's token on it."""
    ticket = message.ticket
    recipient = message.identity.address if message.identity else ""
    if not recipient or "\n" in recipient or "\r" in recipient:
        raise PermanentDeliveryError(f"not an email address: {recipient!r}", code="invalid_address")
    references = thread_ids(ticket, before=message)
    headers = {
        "Message-ID": tokens.message_id(ticket.pk, str(message.pk)),
        "Reply-To": tokens.reply_address(ticket.pk, address),
    }
    if references:
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
    if auto := automated.auto_submitted(message):  # RFC 3834: autoresponders must not answer it
        headers["Auto-Submitted"] = auto
        headers["X-Auto-Response-Suppress"] = "All"
    cc = email_cc(ticket, recipient)
    text = message.text or ""
    html = message.html or linebreaks(text)
    context = {"ticket": ticket, "message": message, "text": text, "html": html}
    mail = EmailMultiAlternatives(
        subject=subject_for(ticket, message.subject),
        body=render_to_string("email/reply.txt", context),
        from_email=sender_address(message.author_name, address),
        to=[recipient], cc=cc, headers=headers,
    )
    mail.attach_alternative(render_to_string("email/reply.html", context), "text/html")
    for attachment in message.attachments.filter(state="stored"):
        with attachment.file.open("rb") as handle:
            mail.attach(attachment.filename, handle.read(), attachment.content_type)
    # anymail sends this to the ESP and hands it back in tracking webhooks: that is how a
    # "delivered" or "bounced" event finds this message whatever id the ESP uses.
    mail.metadata = {"helpdesk_message_id": headers["Message-ID"]}
    return mail


def send(mail: EmailMultiAlternatives, backend=None) -> None:
    """Send through the configured mailer (or `backend`, e.g. a mailbox's own SMTP server),
    classifying failures for the delivery task."""
    from anymail.exceptions import (
        AnymailAPIError,
        AnymailRecipientsRefused,
        AnymailUnsupportedFeature,
    )

    try:
        try:
            if backend is not None:
                backend.send_messages([mail])
            else:
                mail.send(using=conf.mailer())
        except AnymailUnsupportedFeature:
            if not getattr(mail, "metadata", None):
                raise
            # This ESP takes no metadata (MailerSend, Postal). anymail refuses while building the
            # request, before anything is sent; send without it and let tracking find the mail
            # by the ESP's own id (remember_esp_ids).
            del mail.metadata
            mail.send(using=conf.mailer())
    except AnymailRecipientsRefused as exc:
        raise PermanentDeliveryError(str(exc), code="rejected") from exc
    except AnymailAPIError as exc:
        status = getattr(exc, "status_code", None)
        if status and 400 <= status < 500 and status != 429:
            raise PermanentDeliveryError(str(exc), code=str(status)) from exc
        raise TransientDeliveryError(str(exc), code=str(status or "api_error")) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentDeliveryError(f"recipient refused: {exc.recipients}", code="smtp_refused") from exc
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentDeliveryError(f"{exc.smtp_code} {exc.smtp_error!r}", code=str(exc.smtp_code)) from exc
        raise TransientDeliveryError(f"{exc.smtp_code} {exc.smtp_error!r}", code=str(exc.smtp_code)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise TransientDeliveryError(f"{type(exc).__name__}: {exc}", code="connection") from exc
    except ValueError as exc:  # Django refuses newlines in headers (injection)
        raise PermanentDeliveryError(str(exc), code="invalid_header") from exc
    status = getattr(mail, "anymail_status", None)
    if status is not None and status.status and status.status <= {"rejected", "invalid"}:
        raise PermanentDeliveryError(f"the ESP refused the message ({', '.join(sorted(status.status))})",
                                     code="rejected")
    remember_esp_ids(mail)


def remember_esp_ids(mail) -> None:
    """Keep the ESP's id(s) for this mail (one per recipient where they differ)."""
    from channels_email.models import SentMail

    status = getattr(mail, "anymail_status", None)
    ours = mail.extra_headers.get("Message-ID", "")
    recipients = getattr(status, "recipients", None) or {}
    esp_ids = {r.message_id for r in recipients.values() if isinstance(getattr(r, "message_id", None), str)}
    if ours and esp_ids:
        SentMail.objects.bulk_create([SentMail(esp_message_id=i[:255], message_id=ours) for i in esp_ids],
                                     ignore_conflicts=True)


def our_message_id(esp_message_id: str) -> str:
    from channels_email.models import SentMail

    found = SentMail.objects.filter(esp_message_id=esp_message_id).values_list("message_id", flat=True).first()
    return found or ""
