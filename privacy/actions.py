"""The two data-rights actions, as the console, the API and the commands call them: each one
audited by a PrivacyRequest (ids and counts only, no personal data)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from privacy.export import build_export
from privacy.models import PrivacyRequest
from privacy.providers import providers
from tickets.models import Customer
from tickets.services.erasure import erase_customer, family, scan_payloads

log = logging.getLogger(__name__)


class Refused(ValueError):
    """The action cannot be done on this customer (the message says why, for the user)."""


def export(customer: Customer, *, actor, via: str):
    """The export zip (an open file at 0), audited."""
    _refuse_merged(customer)
    archive = build_export(customer)
    PrivacyRequest.objects.create(action=PrivacyRequest.Action.EXPORT, customer_id=customer.pk, actor=actor,
                                  via=via, summary={"bytes": _size(archive)})
    log.info("customer %s exported by %s via %s", customer.pk, getattr(actor, "pk", None), via)
    return archive


def erase(customer: Customer, *, actor, via: str) -> PrivacyRequest:
    """Erase the person everywhere, in one transaction: other apps' providers first (they may
    still need the identities to find their rows), then the domain (tickets.services), then
    the audit record. Any failure rolls all of it back and is raised."""
    _refuse_merged(customer)
    configured = providers()  # a configuration error stops here, before anything is written
    scan = scan_payloads(customer)  # the slow read, before the write transaction
    with transaction.atomic():
        rows = list(Customer.objects.filter(pk__in=family(customer)))
        by_provider = {}
        for label, provider in configured:
            by_provider[label] = sum(int(provider.erase(row) or 0) for row in rows)
        erased = erase_customer(customer, scan)
        record = PrivacyRequest.objects.create(
            action=PrivacyRequest.Action.ERASE, customer_id=customer.pk, actor=actor, via=via,
            summary={**erased.counts, "customer_rows": len(erased.customers), "ticket_rows": len(erased.tickets),
                     "providers": by_provider})
    return record


def _refuse_merged(customer: Customer) -> None:
    if customer.merged_into_id:
        raise Refused(_("Customer %(id)s was merged into customer %(into)s: act on that customer, whose "
                        "data includes this one's.") % {"id": customer.pk, "into": customer.merged_into_id})


def _size(archive) -> int:
    archive.seek(0, 2)
    size = archive.tell()
    archive.seek(0)
    return size
