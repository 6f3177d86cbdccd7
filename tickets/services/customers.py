"""Merging customers: only by an explicit, audited and reversible action."""

from __future__ import annotations

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import events
from tickets.event_bodies import message_data, ticket_data
from tickets.models import Customer, CustomerMerge, Identity, Message, Ticket
from tickets.people import display_name


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
                            "tickets": moved["tickets"], "actor": display_name(actor), "source_name": source.name})
    return merge


def undo_merge(merge: CustomerMerge, *, actor) -> CustomerMerge:
    """Put back everything that belongs to the source's identities: what the merge moved, and
    what arrived after it (B kept writing while merged: new tickets it opened, messages on its
    own tickets). A message one side wrote onto a ticket that stays with the other side since
    the merge is split onto a new ticket of its writer, so nobody's words end up in the other's
    history."""
    with transaction.atomic():
        merge = CustomerMerge.objects.select_for_update().select_related("source", "target").get(pk=merge.pk)
        if merge.undone_at:
            return merge
        source_id, target_id, moved = merge.source_id, merge.target_id, merge.moved
        locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[source_id, target_id])}
        if locked[target_id].merged_into_id:
            # B's things have moved on to C with A: undoing B->A first would strand them there.
            raise ValueError(_("%(target)s was merged into customer %(next)s since: undo that merge first.")
                             % {"target": locked[target_id], "next": locked[target_id].merged_into_id})
        identities = list(Identity.objects.filter(pk__in=moved["identities"], customer=target_id)
                          .values_list("pk", flat=True))
        Identity.objects.filter(pk__in=identities).update(customer=source_id)
        returning = set(Ticket.objects.filter(pk__in=moved["tickets"], customer=target_id)
                        .values_list("pk", flat=True))
        returning |= _opened_since(merge, identities)
        Ticket.objects.filter(pk__in=returning).update(customer=source_id)
        # Message.customer is the ticket's customer (denormalised): it follows its ticket.
        Message.objects.filter(ticket_id__in=returning).update(customer=source_id)
        Message.objects.filter(pk__in=moved["messages"], customer=target_id,
                               ticket__customer=source_id).update(customer=source_id)
        Customer.objects.filter(pk=source_id).update(merged_into=None)
        strays = Message.objects.filter(direction=Message.Direction.INBOUND)
        # B's words left on A's tickets (B joined A's open conversation while merged, or an
        # agent moved B's message there), and A's words left on tickets going back to B.
        split = _split(strays.filter(customer=target_id, identity__in=identities)
                       .filter(Q(created_at__gte=merge.created_at) | Q(pk__in=moved["messages"])), source_id, actor)
        split += _split(strays.filter(ticket_id__in=returning, created_at__gte=merge.created_at,
                                      identity__customer=target_id), target_id, actor)
        merge.undone_at, merge.undone_by = timezone.now(), actor
        merge.save(update_fields=["undone_at", "undone_by"])
        events.record("customer.unmerged", customer=merge.target,
                      data={"merge": merge.pk, "source": source_id, "target": target_id,
                            "tickets": sorted(returning | set(split)), "actor": display_name(actor),
                            "source_name": merge.source.name})
    return merge


def _opened_since(merge: CustomerMerge, identities: list[int]) -> set[int]:
    """Tickets opened after the merge whose first message came from (or went to) one of the
    source's identities: they are the source's conversations."""
    if not identities:
        return set()
    first = (Message.objects.filter(ticket=OuterRef("pk")).exclude(direction=Message.Direction.NOTE)
             .order_by("pk").values("identity_id")[:1])
    return set(Ticket.objects.filter(customer=merge.target_id, created_at__gte=merge.created_at)
               .annotate(first_identity=Subquery(first)).filter(first_identity__in=identities)
               .values_list("pk", flat=True))


def _split(messages, owner_id: int, actor) -> list[int]:
    """Move `messages` (inbound, on tickets of the other customer) to one new ticket of
    `owner_id` per ticket they sit on, linked to it as related. Returns the new tickets."""
    by_ticket: dict[int, list[Message]] = {}
    for message in messages.select_related("ticket").order_by("pk"):
        by_ticket.setdefault(message.ticket_id, []).append(message)
    created = []
    for ticket_id, items in by_ticket.items():
        origin = items[0].ticket
        last = items[-1].created_at
        ticket = Ticket.objects.create(
            customer_id=owner_id, subject=origin.subject, channel=origin.channel, related_to=origin,
            status=Ticket.Status.OPEN, team=origin.team, last_customer_message_at=last,
            waiting_since=items[0].created_at,
        )
        Message.objects.filter(pk__in=[m.pk for m in items]).update(ticket=ticket, customer_id=owner_id)
        events.record("ticket.created", ticket=ticket, data=ticket_data(ticket))
        for message in items:
            message.ticket, message.customer_id = ticket, owner_id
            data = {**message_data(message), "moved_from": ticket_id, "actor": display_name(actor)}
            events.record("message.moved", ticket=origin, message=message, data=data)
            events.record("message.moved", ticket=ticket, message=message, data=data)
        created.append(ticket.pk)
    return created


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


def set_identity_picture(identity_id: int, url: str) -> bool:
    """Set (or with "" remove) the picture the console shows for an identity:
    `meta["avatar_url"]`, a path on our own origin (tickets.console.avatars refuses anything
    else). Records `identity.updated` so integrations and replaying consoles hear of it.
    False when the identity is gone (erased meanwhile) or nothing changed."""
    with transaction.atomic():
        identity = Identity.objects.select_for_update().select_related("customer").filter(pk=identity_id).first()
        if identity is None or (identity.meta or {}).get("avatar_url", "") == url:
            return False
        meta = dict(identity.meta or {})
        if url:
            meta["avatar_url"] = url
        else:
            meta.pop("avatar_url", None)
        Identity.objects.filter(pk=identity_id).update(meta=meta)
        events.record("identity.updated", customer=identity.customer,
                      data={"identity": identity.pk, "channel": identity.channel, "avatar_url": url})
    return True
