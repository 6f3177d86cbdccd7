"""Merging customers: only by an explicit, audited and reversible action."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import events
from tickets.models import Customer, CustomerMerge, Identity, Message, Ticket


def merge_customers(source: Customer, target: Customer, *, actor, reason: str = "") -> CustomerMerge:
    """Move source's identities, tickets and messages to target, remembering exactly which,
    so undo_merge() can put them back."""
    if source.pk == target.pk:
        raise ValueError("cannot merge a customer into itself")
    with transaction.atomic():
        locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[source.pk, target.pk])}
        source, target = locked[source.pk], locked[target.pk]
        if source.merged_into_id:
            raise ValueError("this customer was already merged")
        moved = {
            "identities": list(Identity.objects.filter(customer=source).values_list("pk", flat=True)),
            "tickets": list(Ticket.objects.filter(customer=source).values_list("pk", flat=True)),
            "messages": list(Message.objects.filter(customer=source).values_list("pk", flat=True)),
        }
        Identity.objects.filter(pk__in=moved["identities"]).update(customer=target)
        Ticket.objects.filter(pk__in=moved["tickets"]).update(customer=target)
        Message.objects.filter(pk__in=moved["messages"]).update(customer=target)
        source.merged_into = target
        source.save(update_fields=["merged_into"])
        merge = CustomerMerge.objects.create(source=source, target=target, actor=actor, reason=reason, moved=moved)
        events.record("customer.merged", customer=target,
                      data={"merge": merge.pk, "source": source.pk, "target": target.pk,
                            "tickets": moved["tickets"]})
    return merge


def undo_merge(merge: CustomerMerge, *, actor) -> CustomerMerge:
    with transaction.atomic():
        merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at:
            return merge
        moved = merge.moved
        Identity.objects.filter(pk__in=moved["identities"], customer=merge.target_id).update(customer=merge.source_id)
        Ticket.objects.filter(pk__in=moved["tickets"], customer=merge.target_id).update(customer=merge.source_id)
        Message.objects.filter(pk__in=moved["messages"], customer=merge.target_id).update(customer=merge.source_id)
        Customer.objects.filter(pk=merge.source_id).update(merged_into=None)
        merge.undone_at, merge.undone_by = timezone.now(), actor
        merge.save(update_fields=["undone_at", "undone_by"])
        events.record("customer.unmerged", customer=merge.target,
                      data={"merge": merge.pk, "source": merge.source_id, "target": merge.target_id,
                            "tickets": moved["tickets"]})
    return merge


PROFILE_FIELDS = ("name", "organisation", "notes")


def update_customer(customer: Customer, *, actor, ticket=None, **values) -> Customer:
    """An agent edits the customer's profile (name, organisation, notes: None leaves a field
    alone). One event, so every console showing this customer updates; `ticket`, the ticket
    the agent edited from, scopes who may read it (team scoping: notes are not for everyone)."""
    changes = {name: (values[name] or "").strip() for name in PROFILE_FIELDS if values.get(name) is not None}
    for name, value in changes.items():
        limit = Customer._meta.get_field(name).max_length
        if limit and len(value) > limit:
            raise ValueError(_("The %(field)s may be at most %(limit)d characters.")
                             % {"field": Customer._meta.get_field(name).verbose_name, "limit": limit})
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        changed = [name for name, value in changes.items() if getattr(customer, name) != value]
        if not changed:
            return customer
        for name in changed:
            setattr(customer, name, changes[name])
        customer.save(update_fields=changed)
        events.record("customer.updated", ticket=ticket, customer=customer,
                      data={"customer": customer.pk, "changed": changed, "actor": getattr(actor, "pk", None),
                            **{name: getattr(customer, name) for name in PROFILE_FIELDS}})
    return customer
