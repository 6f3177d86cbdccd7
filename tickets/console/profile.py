"""The customer profile page: who the customer is across every channel, every ticket of theirs
the agent may see, their merges (with undo) and what other apps know about them.

Apps built on `tickets` add their part (satisfaction ratings, live-chat context) through
HELPDESK_CUSTOMER_PANELS: dotted paths of callables(customer, user) returning None or
{"template": ..., "context": {...}} rendered as a section of the page; `tickets` names no app.
Each panel must cost a fixed number of queries (the page's count is asserted in tests).
HELPDESK_TICKET_PANELS does the same for the ticket page's sidebar (live-chat context)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from tickets import events, policy
from tickets.console import avatars
from tickets.console.panels import panels
from tickets.console.views import agent_required
from tickets.models import Customer, CustomerMerge, Identity, Ticket
from tickets.people import customer_name, identity_label

PROFILE_TICKETS = 100  # newest first; the rest are one search away


@require_GET
@agent_required
def customer_profile(request, pk):
    if not policy.can_see_customer(request.user, pk):
        raise PermissionDenied
    seq = events.current_seq()
    customer = get_object_or_404(Customer.objects.select_related("merged_into"), pk=pk)
    identities = list(Identity.objects.filter(customer=customer).order_by("channel", "-last_inbound_at", "pk"))
    for identity in identities:
        identity.label = identity_label(identity.channel, identity.address)
    tickets = list(Ticket.objects.filter(policy.visible_tickets(request.user), customer=customer)
                   .select_related("assignee", "team").order_by("-updated_at")[:PROFILE_TICKETS])
    merges = [{"merge": m, "undo": policy.can_undo_merge(request.user, m),
               "source_name": customer_name(m.source.name, (), m.source_id)}
              for m in CustomerMerge.objects.filter(target=customer).select_related("source", "actor", "undone_by")
              .order_by("-created_at")[:20]]
    return render(request, "console/customer.html", {
        "customer": customer, "name": customer_name(customer.name, identities, customer.pk),
        "picture": avatars.picture_of(identities),
        "identities": identities, "tickets": tickets, "merges": merges,
        "open_count": sum(1 for t in tickets if t.is_active),
        "panels": panels(customer, request.user, identities=identities), "seq": seq,
    })

