"""The email channel's personal data for export and erasure (a HELPDESK_PERSONAL_DATA_PROVIDERS
entry): the automatic acknowledgements sent to the customer's addresses."""

from channels_email.models import Acknowledgement


class Acknowledgements:
    label = "email"

    @staticmethod
    def _acks(customer):
        addresses = list(customer.identities.filter(channel="email").values_list("address", flat=True))
        return Acknowledgement.objects.filter(address__in=addresses)

    def export(self, customer) -> dict:
        return {"acknowledgements": [{"address": a.address, "day": a.day.isoformat(), "ticket": a.ticket_id}
                                     for a in self._acks(customer).order_by("pk")]}

    def erase(self, customer) -> int:
        return self._acks(customer).delete()[0]
