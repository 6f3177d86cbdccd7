"""Customers with identities, one history across channels, and merging."""

import pytest

from tests.factories import inbound
from tests.fakes.api import ApiClient, create_token
from tickets import services
from tickets.models import Customer, CustomerMerge, Identity, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(agent):
    return ApiClient(create_token(agent))


def ada_on_two_channels():
    """Ada writes by email, then by SMS from a number her customer record already lists."""
    email = services.ingest(inbound("ada@example.com", "by mail", channel="fake", sender_name="Ada"))
    customer = email.message.customer
    Identity.objects.create(customer=customer, channel="sms", address="+14155550100")
    sms = services.ingest(inbound("+14155550100", "by text", channel="sms", adapter="fakesms"))
    assert sms.message.customer_id == customer.pk
    return customer


def test_read_a_customer_with_identities(api):
    customer = ada_on_two_channels()
    body = api.get(f"/customers/{customer.pk}").json()
    assert body["id"] == customer.pk and body["name"] == "Ada" and body["merged_into"] is None
    assert sorted((i["channel"], i["address"]) for i in body["identities"]) == [
        ("fake", "ada@example.com"), ("sms", "+14155550100")]
    assert api.get("/customers/999999").status_code == 404


def test_find_a_customer_by_address_normalised(api):
    customer = ada_on_two_channels()
    services.ingest(inbound("bob@example.com", "hi", channel="fake"))
    found = api.get("/customers", {"channel": "sms", "address": "+1 (415) 555-0100"}).json()["items"]
    assert [c["id"] for c in found] == [customer.pk]
    assert api.get("/customers", {"channel": "sms", "address": "not a phone"}).json()["items"] == []
    assert api.get("/customers", {"address": "ada@example.com"}).status_code == 422
    assert len(api.get("/customers").json()["items"]) == 2


def test_list_customers_pages_with_a_cursor(api):
    for i in range(5):
        services.ingest(inbound(f"c{i}@example.com", "hi", channel="fake"))
    first = api.get("/customers", {"limit": 3}).json()
    second = api.get("/customers", {"limit": 3, "cursor": first["next_cursor"]}).json()
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert ids == sorted(Customer.objects.values_list("pk", flat=True)) and second["next_cursor"] is None


def test_history_across_channels_in_one_timeline(api, agent):
    customer = ada_on_two_channels()
    ticket = Ticket.objects.filter(customer=customer, channel="sms").get()
    services.note(ticket, author=agent, text="she prefers texts")
    items = api.get(f"/customers/{customer.pk}/messages").json()["items"]
    assert [(m["channel"], m["text"]) for m in items] == [
        ("fake", "by mail"), ("sms", "by text"), ("note", "she prefers texts")]
    assert len({m["ticket"] for m in items}) == 2
    page = api.get(f"/customers/{customer.pk}/messages", {"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]


def test_merge_customers(api, agent):
    keep = services.ingest(inbound("ada@example.com", "one", channel="fake")).message.customer
    dup = services.ingest(inbound("ada.lovelace@example.com", "two", channel="fake")).message.customer
    response = api.post(f"/customers/{dup.pk}/merge", {"into": keep.pk, "reason": "same person"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["source"], body["target"], body["reason"]) == (dup.pk, keep.pk, "same person")
    assert CustomerMerge.objects.get().actor == agent
    assert Ticket.objects.filter(customer=keep).count() == 2
    assert api.get(f"/customers/{dup.pk}").json()["merged_into"] == keep.pk
    assert len(api.get(f"/customers/{keep.pk}").json()["identities"]) == 2

    again = api.post(f"/customers/{dup.pk}/merge", {"into": keep.pk})
    assert again.status_code == 409 and again.json()["code"] == "merge_refused"
    assert api.post(f"/customers/{keep.pk}/merge", {"into": keep.pk}).status_code == 409
    assert api.post(f"/customers/{keep.pk}/merge", {"into": dup.pk}).status_code == 409  # dup is merged away
    assert api.post(f"/customers/{keep.pk}/merge", {"into": 999999}).status_code == 422


def test_merging_needs_the_change_customer_permission(agent, django_user_model):
    from django.contrib.auth.models import Permission

    a = services.ingest(inbound("a@example.com", "one", channel="fake")).message.customer
    b = services.ingest(inbound("b@example.com", "two", channel="fake")).message.customer
    viewer = django_user_model.objects.create_user("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    response = ApiClient(create_token(viewer)).post(f"/customers/{a.pk}/merge", {"into": b.pk})
    assert response.status_code == 403
    assert not CustomerMerge.objects.exists()
