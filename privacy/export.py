"""A customer's data across every channel, as a zip: `customer.json` (profile, identities, tickets
with their messages and notes, attachments' details), the attachment files under
`attachments/<id>/<name>`, and one `<label>.json` per personal data provider (other apps).

Built in a temporary file that spills to disk past a few MB, so a customer with gigabytes of
attachments does not fill the server's memory. Reading only: nothing here writes."""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, Q
from django.utils import timezone

from privacy.providers import providers
from tickets.models import Attachment, Customer, CustomerMerge, Identity, Message, Ticket
from tickets.services.erasure import family

log = logging.getLogger(__name__)

FORMAT = "helpdesk-customer-export/1"


def build_export(customer: Customer):
    """The zip, as an open temporary file positioned at 0 (the caller closes it)."""
    ids = family(customer)
    customers = list(Customer.objects.filter(pk__in=ids).order_by("pk"))
    identities = list(Identity.objects.filter(customer_id__in=ids).order_by("pk"))
    tickets = list(Ticket.objects.filter(customer_id__in=ids).prefetch_related("tags").order_by("pk"))
    messages = list(
        Message.objects.filter(Q(customer_id__in=ids) | Q(identity_id__in=[i.pk for i in identities]))
        .select_related("author").prefetch_related(Prefetch("attachments", Attachment.objects.order_by("pk")))
        .order_by("created_at", "pk"))
    by_ticket = {}
    for message in messages:
        by_ticket.setdefault(message.ticket_id, []).append(message)
    ticket_ids = {t.pk for t in tickets}

    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        document = {
            "format": FORMAT,
            "exported_at": timezone.now(),
            "customer": _customer(next(c for c in customers if c.pk == customer.pk)),
            "merged_customers": [_customer(c) for c in customers if c.pk != customer.pk],
            "identities": [_identity(i) for i in identities],
            "tickets": [_ticket(t, by_ticket.get(t.pk, [])) for t in tickets],
            # Messages they wrote on someone else's ticket (a Cc'd participant).
            "messages_on_other_tickets": [_message(m) for m in messages if m.ticket_id not in ticket_ids],
            "merges": [_merge(m) for m in CustomerMerge.objects.filter(Q(source_id__in=ids) | Q(target_id__in=ids))],
        }
        zf.writestr("customer.json", _json(document))
        for message in messages:
            for attachment in message.attachments.all():
                _add_file(zf, attachment)
        for label, provider in providers():
            data = {"customers": []}
            for row in customers:
                part = dict(provider.export(row) or {})
                for name, content in (part.pop("files", None) or {}).items():
                    zf.writestr(f"{label}/{row.pk}/{_safe(name)}", content)
                data["customers"].append({"customer": row.pk, **part})
            zf.writestr(f"{label}.json", _json(data))
    out.seek(0)
    return out


def export_filename(customer: Customer) -> str:
    return f"customer-{customer.pk}-{timezone.now():%Y%m%d-%H%M%S}.zip"


def _json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _safe(name: str) -> str:
    # Names come from customers and providers: no directories, no traversal inside the zip.
    return name.replace("\\", "/").rsplit("/", 1)[-1].lstrip(".") or "file"


def _attachment_path(attachment: Attachment) -> str:
    return f"attachments/{attachment.pk}/{_safe(attachment.filename)}"


def _add_file(zf: zipfile.ZipFile, attachment: Attachment) -> None:
    if not attachment.file:
        return
    try:
        with attachment.file.open("rb") as source, zf.open(_attachment_path(attachment), "w") as target:
            while chunk := source.read(1024 * 1024):
                target.write(chunk)
    except OSError:
        # Listed in customer.json all the same; the export says the file was missing.
        log.warning("attachment %s: file %s missing from storage", attachment.pk, attachment.file.name)


def _customer(c: Customer) -> dict:
    return {"id": c.pk, "name": c.name, "organisation": c.organisation, "notes": c.notes,
            "created_at": c.created_at, "merged_into": c.merged_into_id}


def _identity(i: Identity) -> dict:
    return {"channel": i.channel, "address": i.address, "display_name": i.display_name, "verified": i.verified,
            "opted_out_at": i.opted_out_at, "last_inbound_at": i.last_inbound_at, "created_at": i.created_at}


def _ticket(t: Ticket, messages: list[Message]) -> dict:
    return {"id": t.pk, "subject": t.subject, "channel": t.channel, "status": t.status,
            "priority": t.get_priority_display(), "created_at": t.created_at, "updated_at": t.updated_at,
            "tags": [tag.name for tag in t.tags.all()], "messages": [_message(m) for m in messages]}


def _message(m: Message) -> dict:
    return {"id": m.id, "ticket": m.ticket_id, "direction": m.direction, "channel": m.channel,
            "author": m.author_name, "subject": m.subject, "text": m.text, "html": m.html,
            "status": m.status, "error": m.error_message, "created_at": m.created_at,
            "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                             "state": a.state, "file": _attachment_path(a) if a.file else None}
                            for a in m.attachments.all()]}


def _merge(m: CustomerMerge) -> dict:
    return {"source": m.source_id, "target": m.target_id, "reason": m.reason, "created_at": m.created_at,
            "undone_at": m.undone_at}
