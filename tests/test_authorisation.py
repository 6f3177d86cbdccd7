"""Regression tests for the authorisation defects of issue 12 (tickets.policy): merging and
undoing merges, customers outside a restricted agent's teams (API, search, events), webhook
payloads, and the Django admin. The route-by-role matrix is in test_authorisation_matrix.py."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, Permission

from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.tasks import fan_out_event
from tests.factories import inbound
from tests.fakes.api import ApiClient, create_token
from tickets import events, policy, services
from tickets.console.consumers import ConsoleConsumer
from tickets.models import Customer, CustomerMerge, Event, InboundPayload, Mention, Team, Ticket

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def world(agent, restricted):
    """Rita (restricted, team Support) works Vera's Support ticket; Mallory's only ticket is in
    Billing, a team Rita is not in; Walt has a Support ticket and a Billing one."""
    billing, support = Team.objects.create(name="Billing"), Team.objects.get(name="Support")

    def ticket(address, name, text, team):
        t = services.ingest(inbound(address, text, channel="fake", sender_name=name,
                                    hint={"join_open_ticket": False})).message.ticket
        services.assign(t, team=team, actor=agent)
        return t

    vera = ticket("vera@example.com", "Vera Visible", "support question", support)
    mallory = ticket("mallory@example.com", "Mallory Hidden", "secret invoice", billing)
    walt_support = ticket("walt@example.com", "Walt Split", "walt asks support", support)
    walt_billing = ticket("walt@example.com", "Walt Split", "walt asks billing", billing)
    return {"vera": vera, "mallory": mallory, "walt_support": walt_support, "walt_billing": walt_billing,
            "billing": billing, "support": support}


def without_change_customer(django_user_model, username="carl"):
    group = Group.objects.create(name="Agents who may not change customers")
    group.permissions.set(Permission.objects.filter(content_type__app_label="tickets")
                          .exclude(codename="change_customer"))
    user = django_user_model.objects.create_user(username, password="pw")
    user.groups.add(group)
    return user


# -- merging ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_restricted_agent_cannot_merge_in_a_customer_whose_tickets_they_cannot_see(client, restricted, world):
    client.force_login(restricted)
    mallory = world["mallory"].customer
    response = client.post(f"/console/tickets/{world['vera'].pk}/merge/", {"customer": mallory.pk}, **JSON)
    assert response.status_code == 400 and "No other customer matches" in response.json()["error"]
    by_address = client.post(f"/console/tickets/{world['vera'].pk}/merge/", {"customer": "mallory@example.com"}, **JSON)
    assert by_address.status_code == 400
    assert not CustomerMerge.objects.exists()
    assert Ticket.objects.get(pk=world["mallory"].pk).customer_id == mallory.pk


@pytest.mark.django_db
def test_a_restricted_agent_cannot_merge_a_customer_with_a_hidden_ticket(client, restricted, world):
    """Walt has a Support ticket Rita sees and a Billing one she does not: merging would move a
    history she cannot see whole."""
    client.force_login(restricted)
    response = client.post(f"/console/tickets/{world['vera'].pk}/merge/",
                           {"customer": world["walt_support"].customer_id}, **JSON)
    assert response.status_code == 403 and "every ticket of both" in response.json()["error"]
    assert not CustomerMerge.objects.exists()


@pytest.mark.django_db
def test_a_restricted_agent_cannot_undo_a_merge_of_other_teams(client, agent, restricted, world):
    merge = services.merge_customers(world["mallory"].customer, world["vera"].customer, actor=agent)
    client.force_login(restricted)
    page = client.get(f"/console/tickets/{world['vera'].pk}/").content.decode()
    assert f"/console/merges/{merge.pk}/undo/" not in page  # no Undo button she could not use
    response = client.post(f"/console/merges/{merge.pk}/undo/", {"ticket": world["vera"].pk})
    assert response.status_code == 403
    merge.refresh_from_db()
    assert merge.undone_at is None
    assert Ticket.objects.get(pk=world["mallory"].pk).customer_id == world["vera"].customer_id


@pytest.mark.django_db
def test_the_console_needs_the_change_customer_permission_as_the_api_does(client, django_user_model, world):
    carl = without_change_customer(django_user_model)
    client.force_login(carl)
    vera, walt = world["vera"], world["walt_support"]
    merge = client.post(f"/console/tickets/{vera.pk}/merge/", {"customer": walt.customer_id}, **JSON)
    assert merge.status_code == 403 and not CustomerMerge.objects.exists()
    profile = client.post(f"/console/tickets/{vera.pk}/customer/", {"name": "Renamed"}, **JSON)
    assert profile.status_code == 403
    assert Customer.objects.get(pk=vera.customer_id).name == "Vera Visible"


@pytest.mark.django_db
def test_an_agent_who_may_change_customers_still_merges_and_undoes(client, agent, world):
    client.force_login(agent)
    vera, mallory = world["vera"], world["mallory"]
    response = client.post(f"/console/tickets/{vera.pk}/merge/", {"customer": mallory.customer_id}, **JSON)
    assert response.status_code == 200, response.content
    merge = CustomerMerge.objects.get()
    assert f"/console/merges/{merge.pk}/undo/" in client.get(f"/console/tickets/{vera.pk}/").content.decode()
    assert client.post(f"/console/merges/{merge.pk}/undo/", {"ticket": vera.pk}, **JSON).status_code == 200
    merge.refresh_from_db()
    assert merge.undone_at is not None


# -- customers outside a restricted agent's teams -----------------------------------------------

@pytest.mark.django_db
def test_the_api_lists_and_reads_only_customers_in_scope(agent, restricted, world):
    api = ApiClient(create_token(restricted))
    names = {c["name"] for c in api.get("/customers").json()["items"]}
    assert names == {"Vera Visible", "Walt Split"}
    mallory = world["mallory"].customer
    assert api.get(f"/customers/{mallory.pk}").status_code == 404
    assert api.get(f"/customers/{mallory.pk}/messages").status_code == 404
    found = api.get("/customers", {"channel": "fake", "address": "mallory@example.com"}).json()["items"]
    assert found == []
    # Merged away, a customer has no ticket left, but was not "nobody's" before: still hidden.
    zed = services.ingest(inbound("zed@example.com", "zed", channel="fake", sender_name="Zed Hidden")).message.ticket
    services.assign(zed, team=world["billing"], actor=agent)
    services.merge_customers(zed.customer, mallory, actor=agent)
    assert api.get(f"/customers/{zed.customer_id}").status_code == 404
    assert "Zed Hidden" not in api.get("/customers").content.decode()


@pytest.mark.django_db
def test_the_api_refuses_to_merge_customers_out_of_scope(restricted, world):
    api = ApiClient(create_token(restricted))
    vera, mallory, walt = (world[k].customer_id for k in ("vera", "mallory", "walt_support"))
    assert api.post(f"/customers/{mallory}/merge", {"into": vera}).status_code == 404
    assert api.post(f"/customers/{vera}/merge", {"into": mallory}).json()["code"] == "unknown_customer"
    response = api.post(f"/customers/{walt}/merge", {"into": vera})
    assert response.status_code == 403 and "every ticket of both" in response.json()["message"]
    assert not CustomerMerge.objects.exists()


@pytest.mark.django_db
def test_a_restricted_agent_cannot_open_a_ticket_for_a_customer_of_another_team(restricted, world):
    api = ApiClient(create_token(restricted))
    before = Ticket.objects.count()
    by_id = api.post("/tickets", {"customer": world["mallory"].customer_id, "subject": "hello", "text": "hi"})
    assert by_id.status_code == 404
    by_address = api.post("/tickets", {"to": {"channel": "fake", "address": " mallory@example.com "}, "text": "hi"})
    assert by_address.status_code == 403
    assert by_address.json()["message"] == "This address belongs to a customer of another team."
    assert Ticket.objects.count() == before
    # A customer in scope, and a new address, still work.
    assert api.post("/tickets", {"customer": world["vera"].customer_id, "internal_note": "x"}).status_code == 201
    assert api.post("/tickets", {"to": {"channel": "fake", "address": "new@example.com"},
                                 "internal_note": "x"}).status_code == 201


@pytest.mark.django_db
def test_console_search_lists_only_customers_in_scope(client, restricted, agent, world):
    client.force_login(restricted)
    page = client.get("/console/search/", {"q": "example.com"}).content.decode()
    assert "Vera Visible" in page and "Walt Split" in page
    assert "Mallory Hidden" not in page and "mallory@example.com" not in page
    client.force_login(agent)
    assert "Mallory Hidden" in client.get("/console/search/", {"q": "example.com"}).content.decode()


@pytest.mark.django_db(transaction=True)
async def test_merge_events_reach_only_agents_who_see_every_ticket_they_name(agent, restricted, world):
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = restricted
    assert (await communicator.connect())[0]
    start = await database_sync_to_async(events.current_seq)()
    await communicator.send_json_to({"type": "resume", "last_seq": start})
    source, target = await database_sync_to_async(lambda: (world["mallory"].customer, world["vera"].customer))()
    merge = await database_sync_to_async(services.merge_customers)(source, target, actor=agent)
    await database_sync_to_async(services.undo_merge)(merge, actor=agent)
    # A marker she may see: everything before it has been decided by then.
    await database_sync_to_async(services.ingest)(inbound("vera@example.com", "marker", channel="fake",
                                                          hint={"ticket_id": world["vera"].pk}))
    kinds = []
    while "message.created" not in kinds:
        message = await communicator.receive_json_from(timeout=5)
        for event in message["events"] if message["type"] == "events" else [message]:
            if event["type"] == "event":
                kinds.append(event["kind"])
    assert "customer.merged" not in kinds and "customer.unmerged" not in kinds
    await communicator.disconnect()
    merged = await database_sync_to_async(Event.objects.get)(kind="customer.merged")
    assert await database_sync_to_async(policy.can_see_event)(agent, merged)


# -- outgoing webhooks --------------------------------------------------------------------------

@pytest.mark.django_db
def test_customer_updated_webhooks_leave_out_notes_unless_the_endpoint_includes_them(agent, world):
    plain = WebhookEndpoint.objects.create(name="CRM", url="https://crm.example.com/", event_types=["*"])
    audit = WebhookEndpoint.objects.create(name="Audit", url="https://audit.example.com/", event_types=["*"],
                                           include_notes=True)
    customer = world["vera"].customer
    services.update_customer(customer, actor=agent, ticket=world["vera"], name="Vera V.", notes="owes us money")
    fan_out_event.call(Event.objects.get(kind="customer.updated").seq)
    sent = json.loads(WebhookDelivery.objects.get(endpoint=plain).body)
    assert sent["data"]["name"] == "Vera V." and "notes" not in sent["data"] and sent["data"]["changed"] == ["name"]
    assert "owes us money" not in WebhookDelivery.objects.get(endpoint=plain).body
    assert json.loads(WebhookDelivery.objects.get(endpoint=audit).body)["data"]["notes"] == "owes us money"
    # A change of the notes alone tells an endpoint without notes nothing at all.
    services.update_customer(customer, actor=agent, ticket=world["vera"], notes="paid")
    fan_out_event.call(Event.objects.filter(kind="customer.updated").latest("seq").seq)
    assert WebhookDelivery.objects.filter(endpoint=plain).count() == 1
    assert WebhookDelivery.objects.filter(endpoint=audit).count() == 2


# -- the Django admin ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_seeded_agents_are_not_staff():
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    from django.contrib.auth import get_user_model

    staff = dict(get_user_model().objects.values_list("username", "is_staff"))
    assert staff == {"admin": True, "alice": False, "bob": False}


@pytest.mark.django_db
def test_the_admin_scopes_a_restricted_staff_agent_to_their_teams(client, restricted, world):
    restricted.is_staff = True
    restricted.save()
    client.force_login(restricted)
    tickets = client.get("/admin/tickets/ticket/").content.decode()
    assert "support question" in tickets and "secret invoice" not in tickets
    assert f"/admin/tickets/ticket/{world['vera'].pk}/change/" in tickets
    assert f"/admin/tickets/ticket/{world['mallory'].pk}/change/" not in tickets
    hidden = world["mallory"].messages.get()
    assert client.get(f"/admin/tickets/message/{hidden.pk}/change/").status_code == 302  # "does not exist"
    assert "secret invoice" not in client.get(f"/admin/tickets/ticket/{world['mallory'].pk}/change/",
                                              follow=True).content.decode()
    messages = client.get("/admin/tickets/message/").content.decode()
    assert f"/admin/tickets/message/{hidden.pk}/change/" not in messages
    assert f"/admin/tickets/message/{world['vera'].messages.get().pk}/change/" in messages
    # The event log is machinery (helpdesk.admin_site): superusers only, scoped or not.
    assert client.get("/admin/tickets/event/").status_code == 403
    customers = client.get("/admin/tickets/customer/").content.decode()
    assert "Vera Visible" in customers and "Mallory Hidden" not in customers
    assert "mallory@example.com" not in client.get("/admin/tickets/identity/").content.decode()
    # Raw payloads cannot be scoped to a team: not for her at all. Nor can she join teams.
    assert client.get("/admin/tickets/inboundpayload/").status_code == 403
    assert client.post(f"/admin/tickets/team/{world['billing'].pk}/change/",
                       {"name": "Billing", "members": [restricted.pk]}).status_code == 403
    assert not world["billing"].members.filter(pk=restricted.pk).exists()


@pytest.mark.django_db
def test_the_admin_changes_nothing_that_services_own(client, django_user_model, world):
    admin = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    ticket = world["vera"]
    response = client.post(f"/admin/tickets/ticket/{ticket.pk}/change/",
                           {"subject": "x", "status": "solved", "priority": 3, "customer": ticket.customer_id,
                            "channel": "fake"})
    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).status == ticket.status
    identity = ticket.customer.identities.get()
    assert client.post(f"/admin/tickets/identity/{identity.pk}/change/",
                       {"opted_out_at_0": "2026-01-01", "opted_out_at_1": "00:00"}).status_code == 403


@pytest.mark.django_db
def test_a_customer_saved_in_the_admin_goes_through_the_service(client, django_user_model, world):
    admin = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    customer = world["vera"].customer
    response = client.post(f"/admin/tickets/customer/{customer.pk}/change/", {
        "name": "Vera Renamed", "organisation": "ACME", "notes": "",
        "identities-TOTAL_FORMS": 1, "identities-INITIAL_FORMS": 1, "identities-MIN_NUM_FORMS": 0,
        "identities-MAX_NUM_FORMS": 1000, "identities-0-id": customer.identities.get().pk,
        "identities-0-customer": customer.pk,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Customer.objects.get(pk=customer.pk).name == "Vera Renamed"
    event = Event.objects.filter(kind="customer.updated").latest("seq")
    assert event.data["changed"] == ["name", "organisation"] and event.data["actor"] == admin.pk


@pytest.mark.django_db
def test_raw_payloads_stay_readable_for_agents_who_see_every_team(client, django_user_model):
    InboundPayload.objects.create(adapter="fake", body=b"{}")
    admin = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    assert client.get("/admin/tickets/inboundpayload/").status_code == 200


# -- assignment ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_only_agents_who_can_see_the_ticket_can_be_assigned_it(client, agent, restricted, django_user_model, world):
    outsider = django_user_model.objects.create_user("outsider", password="pw")  # not an agent
    client.force_login(agent)
    mallory = world["mallory"]  # Billing: Rita is not in it
    for user in (outsider, restricted):
        response = client.post(f"/console/tickets/{mallory.pk}/assign/", {"assignee": user.pk}, **JSON)
        assert response.status_code == 400 and "assignees are agents of the ticket's team" in response.json()["error"]
    assert Ticket.objects.get(pk=mallory.pk).assignee_id is None
    api = ApiClient(create_token(agent))
    refused = api.post(f"/tickets/{mallory.pk}/assign", {"assignee": restricted.pk})
    assert refused.status_code == 422 and refused.json()["code"] == "unknown_agent"
    # Moving it to her team with the same request makes her a fine assignee.
    moved = api.post(f"/tickets/{mallory.pk}/assign", {"assignee": restricted.pk, "team": world["support"].pk})
    assert moved.status_code == 200 and moved.json()["assignee"] == restricted.pk


@pytest.mark.django_db
def test_the_ticket_page_offers_customer_changes_only_to_those_who_may(client, django_user_model, agent, world):
    client.force_login(without_change_customer(django_user_model))
    page = client.get(f"/console/tickets/{world['vera'].pk}/").content.decode()
    assert 'id="merge-form"' not in page and 'id="customer-form"' not in page
    client.force_login(agent)
    page = client.get(f"/console/tickets/{world['vera'].pk}/").content.decode()
    assert 'id="merge-form"' in page and 'id="customer-form"' in page


@pytest.mark.django_db
def test_mentions_notify_only_agents_who_can_open_the_ticket(agent, restricted, bob, django_user_model, world):
    django_user_model.objects.create_user("outsider", password="pw")
    services.note_with_mentions(world["mallory"], author=agent, text="@rita @outsider @bob have a look")
    assert list(Mention.objects.values_list("user__username", flat=True)) == ["bob"]
    assert list(Event.objects.filter(kind="agent.mentioned").values_list("data__user", flat=True)) == [bob.pk]
