"""seed_demo's bulk mode: the dataset the console benchmarks run on."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.factories import inbound
from tickets import search, services
from tickets.models import Customer, Identity, Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_bulk_mode_creates_the_asked_sizes_searchable_and_consistent(client):
    out = io.StringIO()
    call_command("seed_demo", customers=50, tickets=200, messages=2000, long_ticket=40, stdout=out)
    assert "Seeded 51 customers, 201 tickets, 2040 messages" in out.getvalue()
    assert Customer.objects.count() == 51 and Ticket.objects.count() == 201
    assert Message.objects.count() == 2040
    long = Ticket.objects.get(meta__seed="long")
    assert long.messages.count() == 40
    # Every message belongs to its ticket's customer and comes from one of that customer's identities.
    assert not Message.objects.exclude(customer_id__in=Ticket.objects.values("customer_id")).exists()
    for message in Message.objects.select_related("identity", "ticket")[:200]:
        assert message.identity.customer_id == message.customer_id == message.ticket.customer_id
    assert Identity.objects.filter(customer__in=Customer.objects.all()).count() >= 51
    # The text is indexed (the triggers were suspended for speed and rebuilt) and stays live.
    word = Message.objects.first().text.split()[0].strip(".").lower()
    assert search.search(word).messages
    # Ordinary writes still work afterwards (ids and sequences moved past the bulk rows).
    created = services.ingest(inbound("new-after-seed@example.com", "zanzibar quokka"))
    assert [m.pk for m in search.search("quokka").messages] == [created.message.pk]
    client.force_login(get_user_model().objects.get(username="alice"))
    assert client.get(f"/console/tickets/{long.pk}/").status_code == 200
