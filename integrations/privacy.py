"""Outgoing webhooks' personal data for export and erasure (a HELPDESK_PERSONAL_DATA_PROVIDERS
entry). A delivery's body is a frozen copy of an event about the customer (message text...):
erasure deletes those bodies' rows; the export lists which integrations were sent what."""

from django.db.models import Q

from integrations.models import WebhookDelivery


def _about(customer):
    """Deliveries whose envelope names the customer or one of their tickets. Bodies are written
    by integrations.tasks with separators (",", ":"), so `"customer":7,` is exact."""
    query = Q()
    for key, ids in (("customer", [customer.pk]), ("ticket", list(customer.tickets.values_list("pk", flat=True)))):
        for pk in ids:
            query |= Q(body__contains=f'"{key}":{pk},') | Q(body__contains=f'"{key}":{pk}}}')
    return WebhookDelivery.objects.filter(query)


class WebhookDeliveries:
    label = "webhooks"

    def export(self, customer) -> dict:
        return {"sent_to_integrations": [
            {"endpoint": d.endpoint.name, "event": d.event_type, "created_at": d.created_at.isoformat(),
             "state": d.state} for d in _about(customer).select_related("endpoint").order_by("created_at")]}

    def erase(self, customer) -> int:
        return _about(customer).delete()[0]
