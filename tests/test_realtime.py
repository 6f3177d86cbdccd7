"""The event log's resume protocol, through the real console consumer and channel layer."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from tests.factories import inbound
from tickets import doorbell, events, services
from tickets.console.consumers import ConsoleConsumer
from tickets.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_socket_outlives_its_test():
    """A test that fails before its sockets disconnect must not leave them in this process's
    registries, where the next tests would count them (local_consoles) or find their tasks."""
    yield
    from tickets.console.consumers import _roles_keeper
    from tickets.realtime import _watchman

    doorbell.local_bells.groups.clear()
    doorbell.local_bells.hearing.clear()
    _watchman.task, _watchman.sockets = None, 0
    _roles_keeper.agents.clear()
    _roles_keeper.task = None


async def connect(user):
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


ingest = database_sync_to_async(lambda text, **kw: services.ingest(inbound("ada@example.com", text, **kw)))


async def receive_events(communicator, count):
    got = []
    while len(got) < count:
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == "event":
            got.append(message)
        elif message["type"] == "events":  # one change's events in one frame
            got += message["events"]
    return got


async def test_a_live_event_reaches_a_connected_agent_after_commit(agent):
    communicator, connected, _ = await connect(agent)
    assert connected
    await communicator.send_json_to({"type": "resume", "last_seq": await database_sync_to_async(events.current_seq)()})
    result = await ingest("live one")
    got = await receive_events(communicator, 2)
    assert [e["kind"] for e in got] == ["ticket.created", "message.created"]
    assert got[1]["data"]["id"] == result.message.pk and got[1]["data"]["text"] == "live one"
    assert got[0]["seq"] < got[1]["seq"]
    await communicator.disconnect()


async def test_a_reconnecting_client_gets_exactly_what_it_missed_in_order(agent):
    await ingest("before")
    resume_from = await database_sync_to_async(events.current_seq)()
    for text in ("missed 1", "missed 2", "missed 3"):
        await ingest(text)
    communicator, _, _ = await connect(agent)
    await communicator.send_json_to({"type": "resume", "last_seq": resume_from})
    got = await receive_events(communicator, 3)
    assert [e["kind"] for e in got] == ["message.created"] * 3
    assert [e["data"]["text"] for e in got] == ["missed 1", "missed 2", "missed 3"]
    seqs = [e["seq"] for e in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[0] == resume_from + 1
    # Nothing more: no duplicate of what was replayed arrives later.
    assert await communicator.receive_nothing(timeout=0.3) or (await communicator.receive_json_from())["type"] == "cursor"
    await communicator.disconnect()


async def test_a_client_too_far_behind_is_told_to_reload(agent, settings):
    settings.HELPDESK_EVENT_REPLAY_LIMIT = 2
    for text in ("a", "b"):
        await ingest(text)
    communicator, _, _ = await connect(agent)
    await communicator.send_json_to({"type": "resume", "last_seq": 0})
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "reload" and "more than 2" in message["reason"]
    await communicator.disconnect()


async def test_a_pruned_gap_means_reload(agent):
    await ingest("old")
    await ingest("newer")
    oldest = await database_sync_to_async(lambda: Event.objects.order_by("seq").first().seq)()
    await database_sync_to_async(lambda: Event.objects.filter(seq__lte=oldest + 1).delete())()
    communicator, _, _ = await connect(agent)
    await communicator.send_json_to({"type": "resume", "last_seq": oldest})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "reload"
    await communicator.disconnect()


async def test_anonymous_users_are_refused():
    communicator, connected, code = await connect(AnonymousUser())
    assert not connected and code == 4403


async def test_a_non_agent_user_is_refused(django_user_model):
    user = await database_sync_to_async(django_user_model.objects.create_user)("customer", password="x")
    communicator, connected, code = await connect(user)
    assert not connected and code == 4403


def test_events_since_checks_every_event_and_keeps_the_cursor_moving(agent):
    first = services.ingest(inbound("ada@example.com", "ada's"))
    services.ingest(inbound("bob@example.com", "bob's"))
    services.note(first.message.ticket, author=agent, text="internal")
    scope = Q(customer=first.message.customer_id)
    public_only, cursor = events.events_since(0, scope, lambda e: e.public)
    assert [e["data"]["text"] for e in public_only] == ["ada's"]
    assert cursor == events.current_seq()
    nothing_new, again = events.events_since(cursor, scope, lambda e: True)
    assert nothing_new == [] and again == cursor


async def test_a_lost_doorbell_is_caught_by_the_periodic_check(agent, settings, monkeypatch):
    settings.HELPDESK_EVENT_POLL_SECONDS = 0.2
    communicator, _, _ = await connect(agent)
    await communicator.send_json_to({"type": "resume", "last_seq": await database_sync_to_async(events.current_seq)()})
    monkeypatch.setattr(events, "publish", lambda groups, seq, **kw: None)  # every ring is lost
    await ingest("written by another process")
    got = await receive_events(communicator, 2)
    assert got[-1]["data"]["text"] == "written by another process"
    await communicator.disconnect()


# -- the doorbell carries the events -------------------------------------------------------------

def count_log_reads(monkeypatch):
    """How many times a consumer read the event log (the per-socket query we avoid)."""
    reads = []
    real = events.events_since

    def counted(*args, **kwargs):
        reads.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(events, "events_since", counted)
    return reads


async def follow(communicator):
    """Resume one event back and wait for it: the socket has read the log and follows the bell."""
    seq = await database_sync_to_async(events.current_seq)()
    await communicator.send_json_to({"type": "resume", "last_seq": seq - 1})
    assert (await receive_events(communicator, 1))[0]["seq"] == seq
    return seq


async def test_the_doorbell_carries_the_events_so_consoles_do_not_read_the_log(agent, monkeypatch):
    await ingest("before")
    consoles = [(await connect(agent))[0] for _ in range(5)]
    for communicator in consoles:
        start = await follow(communicator)
    reads = count_log_reads(monkeypatch)
    result = await database_sync_to_async(lambda: services.ingest(inbound("carol@example.com", "carried")))()
    for communicator in consoles:
        frame = await communicator.receive_json_from(timeout=5)
        assert frame["type"] == "events"  # the new ticket and its message: one frame
        got = frame["events"]
        assert [e["kind"] for e in got] == ["ticket.created", "message.created"]
        assert got[1]["data"]["text"] == "carried" and got[1]["data"]["id"] == result.message.pk
        assert [e["seq"] for e in got] == [start + 1, start + 2]
    assert reads == []  # five consoles, no socket read the log
    for communicator in consoles:
        await communicator.disconnect()


async def test_a_dropped_doorbell_leaves_a_gap_that_the_next_bell_reveals(agent, monkeypatch):
    await ingest("before")
    communicator, _, _ = await connect(agent)
    start = await follow(communicator)
    real, dropped = events.publish, []
    monkeypatch.setattr(events, "publish", lambda *args, **kw: dropped.append(args) if not dropped else real(*args, **kw))
    reads = count_log_reads(monkeypatch)
    await ingest("lost bell")
    await ingest("next bell")
    got = await receive_events(communicator, 2)
    assert [e["data"].get("text") for e in got] == ["lost bell", "next bell"]
    assert [e["seq"] for e in got] == [start + 1, start + 2] and len(dropped) == 1
    assert reads == [start]  # the bell never came: the gap was filled from the log
    await communicator.disconnect()


async def test_bells_that_arrive_out_of_order_are_put_back_in_order_from_memory(agent, monkeypatch):
    from channels.layers import get_channel_layer

    await ingest("before")
    communicator, _, _ = await connect(agent)
    start = await follow(communicator)
    held = []
    monkeypatch.setattr(events, "publish", lambda groups, seq, carry=None: held.append((groups, seq, carry())))
    await ingest("first")
    await ingest("second")
    reads = count_log_reads(monkeypatch)
    for groups, seq, carried in reversed(held):  # the second commit's bell overtakes the first's
        await doorbell.ring_all(get_channel_layer(), groups, seq, carried)
    got = await receive_events(communicator, 2)
    assert [(e["seq"], e["data"]["text"]) for e in got] == [(start + 1, "first"), (start + 2, "second")]
    assert reads == []
    await communicator.disconnect()


async def test_a_dropped_doorbell_is_caught_by_the_watchman_with_the_events(agent, settings, monkeypatch):
    settings.HELPDESK_EVENT_POLL_SECONDS = 0.2
    await ingest("before")
    communicator, _, _ = await connect(agent)
    await follow(communicator)
    rung = []
    real_ring = doorbell.ring_all
    monkeypatch.setattr(doorbell, "ring_all", lambda *args: rung.append(args) or real_ring(*args))
    monkeypatch.setattr(events, "publish", lambda *args, **kw: None)  # every after-commit ring is lost
    reads = count_log_reads(monkeypatch)
    await ingest("only the watchman rings")
    got = await receive_events(communicator, 1)
    assert [e["data"].get("text") for e in got] == ["only the watchman rings"]
    assert rung and all(carried for _layer, _groups, _seq, carried in rung)  # it rang with the events
    assert reads == []
    await communicator.disconnect()


async def test_the_watchman_starts_again_when_its_task_belongs_to_a_loop_that_ended(agent, settings, monkeypatch):
    """A socket that never disconnected leaves the count above zero and a task that will never
    run again (its loop ended): a later socket must still get a watchman of its own loop."""
    import asyncio

    from tickets.realtime import _watchman

    ended = asyncio.new_event_loop()
    _watchman.task, _watchman.sockets = ended.create_future(), 1  # pending for ever
    settings.HELPDESK_EVENT_POLL_SECONDS = 0.2
    try:
        await ingest("before")
        communicator, _, _ = await connect(agent)
        await follow(communicator)
        monkeypatch.setattr(events, "publish", lambda *args, **kw: None)  # every after-commit ring is lost
        await ingest("heard through the new watchman")
        got = await receive_events(communicator, 1)
        assert [e["data"].get("text") for e in got] == ["heard through the new watchman"]
        assert _watchman.task.get_loop() is asyncio.get_running_loop()
        await communicator.disconnect()
    finally:
        ended.close()


def restricted_agent(django_user_model, name="restricted"):
    """An agent who sees only the Billing team's tickets (and tickets without a team)."""
    from django.contrib.auth.models import Group

    from tickets.models import Team

    user = django_user_model.objects.create_user(name, password="x")
    group, _ = Group.objects.get_or_create(name="Restricted agents")
    group.permissions.add(*Group.objects.get(name="Agents").permissions.exclude(codename="view_all_teams"))
    user.groups.add(group)
    team, _ = Team.objects.get_or_create(name="Billing")
    team.members.add(user)
    return user, team


async def events_until_current(communicator):
    """The texts of the events a socket receives until its cursor reaches the latest seq."""
    texts, latest = [], await database_sync_to_async(events.current_seq)()
    while True:
        message = await communicator.receive_json_from(timeout=5)
        for event in message["events"] if message["type"] == "events" else [message]:
            if event["type"] == "event":
                texts.append(event["data"].get("text"))
            if event.get("seq") == latest:
                return texts


async def test_a_restricted_agent_gets_only_its_teams_events_from_the_bell(agent, django_user_model, monkeypatch):
    from tickets.models import Team, Ticket

    user, team = await database_sync_to_async(restricted_agent)(django_user_model)
    theirs = await ingest("billing question")
    communicator, connected, _ = await connect(user)
    assert connected
    await follow(communicator)
    await database_sync_to_async(lambda: Ticket.objects.filter(pk=theirs.message.ticket_id).update(team=team))()
    other = await database_sync_to_async(lambda: services.ingest(inbound("bob@example.com", "not billing")))()
    await database_sync_to_async(lambda: Ticket.objects.filter(pk=other.message.ticket_id).update(
        team=Team.objects.create(name="Sales")))()
    reads = count_log_reads(monkeypatch)
    await ingest("billing again")  # ada's ticket, now in Billing
    await database_sync_to_async(lambda: services.ingest(inbound("bob@example.com", "sales again")))()
    texts = await events_until_current(communicator)
    assert "billing again" in texts and "sales again" not in texts
    assert reads == []
    await communicator.disconnect()


async def test_a_console_socket_follows_its_agents_team_membership(agent, django_user_model, settings):
    from tickets.models import Team, Ticket

    settings.HELPDESK_POLICY_REFRESH_SECONDS = 0  # re-read on every bell
    user, billing = await database_sync_to_async(restricted_agent)(django_user_model)
    first = await ingest("billing question")
    sales = await database_sync_to_async(lambda: Team.objects.create(name="Sales"))()
    await database_sync_to_async(lambda: Ticket.objects.filter(pk=first.message.ticket_id).update(team=sales))()
    communicator, _, _ = await connect(user)
    await communicator.send_json_to({"type": "resume", "last_seq": await database_sync_to_async(events.current_seq)()})
    await ingest("before joining sales")
    await database_sync_to_async(lambda: services.ingest(inbound("bob@example.com", "no team")))()
    assert await events_until_current(communicator) == [None, "no team"]  # bob's new ticket, not ada's
    await database_sync_to_async(lambda: sales.members.add(user))()
    await ingest("after joining sales")
    assert await events_until_current(communicator) == ["after joining sales"]
    await communicator.disconnect()


def test_console_sockets_share_one_copy_of_equal_permissions(agent, bob):
    from django.contrib.auth import get_user_model

    from tickets.policy import load_roles

    first, second = (load_roles(get_user_model().objects.get(pk=user.pk)) for user in (agent, bob))
    assert first is not second and first._perm_cache is second._perm_cache
    assert "tickets.view_ticket" in first._perm_cache


# -- bells straight from the ring (doorbell.LocalBells, the in-memory layer) --------------------

@pytest.fixture
def in_memory_layer(settings):
    """These tests are about the embedded mode's layer, also when the suite runs on Redis."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "helpdesk.layers.InMemoryChannelLayer"}}


def channel_sends(monkeypatch):
    """The bells the layer delivered through a socket's channel: (channel, seq)."""
    from channels.layers import get_channel_layer

    layer, sent = get_channel_layer(), []
    real = layer.send

    async def send(channel, message):
        if message.get("type") == "events.ring":
            sent.append((channel, message["seq"]))
        return await real(channel, message)

    monkeypatch.setattr(layer, "send", send)
    return sent


def local_consoles():
    return list(doorbell.local_bells.groups.get(events.AGENTS_GROUP, ()))


async def test_on_the_in_memory_layer_consoles_hear_bells_from_the_ring_not_their_channels(in_memory_layer, agent, monkeypatch):
    await ingest("before")
    consoles = [(await connect(agent))[0] for _ in range(3)]
    for communicator in consoles:
        start = await follow(communicator)
    assert len(local_consoles()) == 3
    sent, reads = channel_sends(monkeypatch), count_log_reads(monkeypatch)
    await ingest("from the ring")
    for communicator in consoles:
        got = await receive_events(communicator, 1)
        assert [(e["seq"], e["data"]["text"]) for e in got] == [(start + 1, "from the ring")]
        assert await communicator.receive_nothing(timeout=0.1)  # once, not once per group
    assert sent == [] and reads == []
    for communicator in consoles:
        await communicator.disconnect()
    assert local_consoles() == []  # a closed socket leaves the ring


async def test_a_console_reading_the_log_gets_the_bell_through_its_channel_in_order(in_memory_layer, agent, monkeypatch):
    await ingest("before")
    busy, _, _ = await connect(agent)
    start = await follow(busy)
    [consumer] = local_consoles()  # busy's
    idle, _, _ = await connect(agent)
    await follow(idle)
    sent = channel_sends(monkeypatch)
    await consumer._catch_up_lock.acquire()  # as if it were reading the log right now
    try:
        await ingest("first")
        await ingest("second")
        assert [e["data"]["text"] for e in await receive_events(idle, 2)] == ["first", "second"]
        assert [channel for channel, _seq in sent] == [consumer.channel_name] * 2
    finally:
        consumer._catch_up_lock.release()
    got = await receive_events(busy, 2)
    assert [(e["seq"], e["data"]["text"]) for e in got] == [(start + 1, "first"), (start + 2, "second")]
    await busy.disconnect()
    await idle.disconnect()


async def test_a_stale_agent_copy_takes_the_bell_through_the_channel_and_is_read_again(in_memory_layer, agent, settings, monkeypatch):
    from tickets.policy import agent_roles

    await ingest("before")
    communicator, _, _ = await connect(agent)
    await follow(communicator)
    agent_roles._users[agent.pk] = (agent_roles._users[agent.pk][0] - 3600, agent_roles._users[agent.pk][1])
    sent = channel_sends(monkeypatch)
    await ingest("after an hour")
    assert [e["data"]["text"] for e in await receive_events(communicator, 1)] == ["after an hour"]
    assert len(sent) == 1  # through its channel, where pass_on() re-read the agent
    assert agent_roles.cached(agent.pk, settings.HELPDESK_POLICY_REFRESH_SECONDS) is not None
    await communicator.disconnect()


async def test_the_roles_keeper_reads_ageing_agent_copies_again_before_a_bell_needs_them(in_memory_layer, agent):
    from tickets.console.consumers import _roles_keeper
    from tickets.policy import agent_roles

    communicator, _, _ = await connect(agent)
    when, user = agent_roles._users[agent.pk]
    agent_roles._users[agent.pk] = (when - 20, user)
    await _roles_keeper.refresh_older_than(15)
    assert agent_roles._users[agent.pk][0] > when - 20 and agent_roles.cached(agent.pk, 15) is not None
    await communicator.disconnect()
    assert agent.pk not in _roles_keeper.agents and _roles_keeper.task is None


@pytest.mark.scaled
async def test_on_redis_each_process_hears_the_agents_bells_on_one_channel_and_passes_them_on(agent, monkeypatch):
    from channels.layers import get_channel_layer

    await ingest("before")
    consoles = [(await connect(agent))[0] for _ in range(3)]
    for communicator in consoles:
        start = await follow(communicator)
    layer = get_channel_layer()
    [members] = [channels for name, channels in layer.groups.items() if name.endswith("__group__agents")]
    assert len(members) == 1 and next(iter(members)).startswith(layer.prefix + "bells.")  # not one per socket
    sent, reads = channel_sends(monkeypatch), count_log_reads(monkeypatch)
    await ingest("through redis")
    for communicator in consoles:
        got = await receive_events(communicator, 1)
        assert [(e["seq"], e["data"]["text"]) for e in got] == [(start + 1, "through redis")]
    assert sent == [] and reads == []
    for communicator in consoles:
        await communicator.disconnect()
    assert events.AGENTS_GROUP not in doorbell.local_bells.hearing  # the last socket left: unsubscribed
