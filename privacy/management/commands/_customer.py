"""Finding the customer an operator means: a number, or an address on any channel."""

from django.core.management.base import CommandError

from tickets.addresses import normalise_address
from tickets.models import Customer, Identity


def add_customer_argument(parser):
    parser.add_argument("customer", help="Customer number, or an address (email, +phone, chat id...).")
    parser.add_argument("--channel", help="The address's channel, when it is ambiguous (sms, whatsapp...).")


def find_customer(value: str, channel: str | None = None) -> Customer:
    value = value.strip()
    if value.isdigit() and channel is None:
        customer = Customer.objects.filter(pk=int(value)).first()
        if customer is None:
            raise CommandError(f"No customer {value}.")
        return customer
    identities = Identity.objects.select_related("customer")
    if channel:
        try:
            identities = identities.filter(channel=channel, address=normalise_address(channel, value))
        except ValueError as exc:
            raise CommandError(f"{value!r} is not a valid {channel} address: {exc}") from exc
    else:
        identities = identities.filter(address__iexact=value)
    customers = {i.customer_id: i.customer for i in identities}
    if not customers:
        raise CommandError(f"No customer has the address {value!r}" + (f" on {channel}." if channel else "."))
    if len(customers) > 1:
        raise CommandError(f"Several customers have {value!r} (on different channels): "
                           f"{', '.join(map(str, sorted(customers)))}. Give --channel or the number.")
    return next(iter(customers.values()))
