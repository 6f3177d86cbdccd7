"""The REST API's personal data for erasure (a HELPDESK_PERSONAL_DATA_PROVIDERS entry): stored
Idempotency-Key responses are copies of customers and messages, kept a day for replays."""

from django.db.models import Q

from api.models import IdempotencyKey


class IdempotentResponses:
    label = "api"

    def export(self, customer) -> dict:
        return {}  # copies of what customer.json holds already

    def erase(self, customer) -> int:
        # Responses are rendered by django-ninja's JSON renderer (", " and ": " separators).
        pk = customer.pk
        query = Q(response__contains=f'"customer": {pk},') | Q(response__contains=f'"customer": {pk}}}')
        for pk in customer.tickets.values_list("pk", flat=True):
            query |= Q(response__contains=f'"ticket": {pk},') | Q(response__contains=f'"ticket": {pk}}}')
        for address in customer.identities.values_list("address", flat=True):
            query |= Q(response__contains=address)
        return IdempotencyKey.objects.filter(query).delete()[0]
