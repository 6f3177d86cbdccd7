"""Every console page with a live socket renders the seq it was built at (issue 12): the search
page rendered none, resumed from 0 and, once the log held more than HELPDESK_EVENT_REPLAY_LIMIT
events, was told to reload, again and again (39 reloads in 10 s)."""

import re

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from tests.factories import inbound
from tests.test_realtime import connect
from tickets import events, services

pytestmark = pytest.mark.django_db(transaction=True)


def page_seq(client, url) -> int:
    response = client.get(url)
    assert response.status_code == 200
    return int(re.search(r'<body data-seq="(\d+)"', response.content.decode()).group(1))


def pages(ticket_id):
    return ["/console/", "/console/search/?q=parcel", "/console/search/", f"/console/tickets/{ticket_id}/"]


def busy_log(settings):
    settings.HELPDESK_EVENT_REPLAY_LIMIT = 3
    for n in range(4):
        result = services.ingest(inbound("ada@example.com", f"parcel {n}"))
    assert events.current_seq() > settings.HELPDESK_EVENT_REPLAY_LIMIT
    return result.message.ticket_id


@pytest.mark.parametrize("index", range(4), ids=["queue", "search", "empty search", "ticket"])
def test_each_live_page_renders_the_current_seq(agent, settings, index):
    client = Client()
    client.force_login(agent)
    url = pages(busy_log(settings))[index]
    assert page_seq(client, url) == events.current_seq()


async def test_a_search_page_socket_resumes_without_being_told_to_reload(agent, settings):
    ticket_id = await database_sync_to_async(busy_log)(settings)

    def seq_of_search_page():
        client = Client()
        client.force_login(agent)
        return page_seq(client, pages(ticket_id)[1])

    seq = await database_sync_to_async(seq_of_search_page)()
    communicator, connected, _ = await connect(agent)
    assert connected
    await communicator.send_json_to({"type": "resume", "last_seq": seq})
    await database_sync_to_async(lambda: services.ingest(inbound("ada@example.com", "after the page")))()
    frame = await communicator.receive_json_from(timeout=5)
    assert frame["type"] == "event" and frame["seq"] == seq + 1, frame  # not "reload"
    await communicator.disconnect()


def test_pages_without_their_own_seq_fall_back_to_the_current_one(agent, rf):
    from tickets.console.context_processors import live_seq

    services.ingest(inbound("ada@example.com", "hello"))
    request = rf.get("/")
    request.user = agent
    assert int(str(live_seq(request)["seq"])) == events.current_seq() > 0
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert live_seq(request) == {}
