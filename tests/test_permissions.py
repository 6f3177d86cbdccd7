"""Team scoping: an agent without `view_all_teams` sees only their teams' tickets (and tickets
with no team) in the queue, on ticket pages, in a customer's timeline, in search and live."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.factories import inbound
from tickets import events, policy, services
from tickets.console.consumers import ConsoleConsumer
from tickets.models import Team


@pytest.fixture
def tickets_by_team(agent):
    billing, support = Team.objects.create(name="Billing"), Team.objects.get(name="Support")
    secret = services.ingest(inbound("vip@example.com", "secret invoice", channel="fake")).message.ticket
    services.assign(secret, team=billing, actor=agent)
    mine = services.ingest(inbound("vip@example.com", "support question", channel="fake",
                                   hint={"join_open_ticket": False})).message.ticket
    services.assign(mine, team=support, actor=agent)
    loose = services.ingest(inbound("vip@example.com", "no team yet", channel="fake",
                                    hint={"join_open_ticket": False})).message.ticket
    return secret, mine, loose


@pytest.mark.django_db
def test_the_seeded_agents_group_sees_every_team(agent, restricted, tickets_by_team):
    secret, mine, loose = tickets_by_team
    assert all(policy.can_see_ticket(agent, t.pk) for t in tickets_by_team)
    assert not policy.can_see_ticket(restricted, secret.pk)
    assert policy.can_see_ticket(restricted, mine.pk) and policy.can_see_ticket(restricted, loose.pk)
    assert policy.visible_ticket_ids(restricted, [t.pk for t in tickets_by_team]) == {mine.pk, loose.pk}


@pytest.mark.django_db
def test_the_console_hides_other_teams_tickets(client, restricted, tickets_by_team):
    secret, mine, loose = tickets_by_team
    client.force_login(restricted)
    queue = client.get("/console/").content.decode()
    assert "support question" in queue and "no team yet" in queue and "secret invoice" not in queue
    assert client.get(f"/console/tickets/{secret.pk}/").status_code == 403
    page = client.get(f"/console/tickets/{mine.pk}/").content.decode()
    assert "support question" in page and "secret invoice" not in page  # same customer's timeline
    found = client.get("/console/search/", {"q": "invoice"}).content.decode()
    assert "secret invoice" not in found


@pytest.mark.django_db(transaction=True)
async def test_a_restricted_agent_receives_no_events_of_other_teams(restricted, tickets_by_team):
    secret, mine, _ = tickets_by_team
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = restricted
    assert (await communicator.connect())[0]
    start = await database_sync_to_async(events.current_seq)()
    await communicator.send_json_to({"type": "resume", "last_seq": start})
    await database_sync_to_async(services.ingest)(inbound("vip@example.com", "more billing", channel="fake",
                                                          hint={"ticket_id": secret.pk}))
    await database_sync_to_async(services.ingest)(inbound("vip@example.com", "more support", channel="fake",
                                                          hint={"ticket_id": mine.pk}))
    seen = []
    while not seen:
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == "event" and message["kind"] == "message.created":
            seen.append(message)
    assert seen[0]["data"]["text"] == "more support"
    await communicator.disconnect()
