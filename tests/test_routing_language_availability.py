"""A ticket's language (channel hints, else a guess among the supported languages) and the rule
condition on it; live chat's "we're online" following the chat inbox team's availability;
offline agents' tickets returning to the pool when their team asks for it."""

import itertools

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from routing import availability, rules
from routing.engine import run_pass
from routing.models import AgentStatus, Inbox, Rule, TeamRouting
from tests.factories import inbound
from tests.routing_helpers import console_open, routed_team, routing_cursor  # noqa: F401 - autouse fixture
from tickets import language, services
from tickets.models import AgentPresence, Message, Team, Ticket

pytestmark = pytest.mark.django_db
_n = itertools.count(1)

GERMAN = "Hallo, ich habe meine Bestellung noch nicht bekommen. Können Sie mir bitte helfen? Danke"
FRENCH = "Bonjour, je n'ai pas reçu ma commande. Pouvez-vous m'aider s'il vous plaît ? Merci"
SPANISH = "Hola, no he recibido mi pedido. ¿Me pueden ayudar por favor? Muchas gracias"
ENGLISH = "Hi, I have not received my order yet. Could you please help me with this? Thanks"


@pytest.mark.parametrize(("hint", "lang"), [
    ("de", "de"), ("de-AT", "de"), ("pt_BR", "pt"), ("FR-ch", "fr"),
    ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"), ("en;q=0.3, es;q=0.9", "es"),
    ("", ""), ("*", ""), ("12", ""), ("x-klingon-with-a-long-name", ""),
])
def test_a_channel_hint_names_the_primary_language(hint, lang):
    assert language.from_hint(hint) == lang


@pytest.mark.parametrize(("text", "lang"), [
    (GERMAN, "de"), (FRENCH, "fr"), (SPANISH, "es"), (ENGLISH, "en"),
    ("ok", ""), ("", ""), ("12345 #9921", ""), ("Bestellung", ""),
])
def test_the_guess_from_the_text_is_a_supported_language_or_nothing(text, lang):
    assert language.detect(text) == lang


def test_the_guess_is_limited_to_the_supported_languages(settings):
    settings.HELPDESK_LANGUAGES = ("en", "fr")
    assert language.detect(GERMAN) == ""
    assert language.detect(FRENCH) == "fr"


def test_ingest_stores_the_hint_else_the_guess_on_a_new_ticket():
    hinted = services.ingest(inbound(sender="a@example.com", text=ENGLISH, meta={"language": "es-MX"})).message.ticket
    guessed = services.ingest(inbound(sender="b@example.com", text=GERMAN)).message.ticket
    unknown = services.ingest(inbound(sender="c@example.com", text="ok")).message.ticket
    assert [t.meta.get("language") for t in (hinted, guessed, unknown)] == ["es", "de", None]


def test_email_content_language_header_is_the_hint():
    from email import message_from_bytes
    from email.policy import default

    from channels_email.inbound import to_items

    raw = (b"From: Ana <ana@example.com>\r\nTo: support@example.com\r\nSubject: Pedido\r\n"
           b"Message-ID: <m1@example.com>\r\nContent-Language: es-ES\r\n\r\nOK\r\n")
    [msg] = to_items(message_from_bytes(raw, policy=default), adapter_key="email", raw=raw)
    assert msg.meta["language"] == "es-ES"
    assert services.ingest(msg).message.ticket.meta["language"] == "es"


def test_telegram_language_code_is_the_hint(client):
    from channels_social.testing import post_telegram

    update = {"update_id": 901, "message": {
        "message_id": 7, "date": 1785000000, "text": "ok", "chat": {"id": 42, "type": "private"},
        "from": {"id": 42, "is_bot": False, "first_name": "Jean", "language_code": "fr"}}}
    assert post_telegram(client, update).status_code == 200
    assert Message.objects.get().ticket.meta["language"] == "fr"


def test_live_chat_passes_the_browser_language():
    from livechat import conversation
    from tests.livechat_helpers import make_inbox, make_visitor

    session, _token = make_visitor(make_inbox())
    message = conversation.send(session, "c-1", "ok", language="de-DE,de;q=0.9,en;q=0.8")
    assert message.ticket.meta["language"] == "de"


def test_a_rule_on_language():
    conditions, actions = rules.validate("created", [{"field": "language", "op": "is", "value": "DE-at"}],
                                         [{"action": "add_tags", "value": "german"}])
    assert conditions == [{"field": "language", "op": "is", "value": "de"}]
    Rule.objects.create(name="German", trigger="created", conditions=conditions, actions=actions)
    german = services.ingest(inbound(sender="d@example.com", text=GERMAN)).message.ticket
    english = services.ingest(inbound(sender="e@example.com", text=ENGLISH)).message.ticket
    run_pass()
    assert list(german.tags.values_list("name", flat=True)) == ["german"]
    assert list(english.tags.values_list("name", flat=True)) == []
    with pytest.raises(Exception, match="write a language code"):
        rules.validate("created", [{"field": "language", "op": "is", "value": "?"}], actions)


# --- live chat's "we're online" ----------------------------------------------------------------
def test_chat_online_follows_the_chat_inbox_teams_agents(django_user_model):
    member, other = (django_user_model.objects.create_user(n) for n in ("member", "other"))
    team = Team.objects.create(name="Chat")
    team.members.add(member)
    Inbox.objects.create(key="chat:shop", name="Shop chat", team=team)
    console_open(other)
    assert availability.chat_online("shop") is False  # someone is online, not of this team
    assert availability.chat_online("elsewhere") is True  # no team for that inbox: anyone counts
    availability.forget_chat_online()
    console_open(member, status="away")
    assert availability.chat_online("shop") is False  # away is not "we're online"
    availability.forget_chat_online()
    AgentStatus.objects.filter(user=member).update(status="online")
    assert availability.chat_online("shop") is True


def test_chat_online_is_cached_briefly_per_inbox(django_user_model, django_assert_num_queries):
    console_open(django_user_model.objects.create_user("solo"))
    assert availability.chat_online("shop") is True
    with django_assert_num_queries(0):
        assert availability.chat_online("shop") is True


@pytest.mark.django_db(transaction=True)
async def test_the_widget_hears_availability_changes_on_its_ping(django_user_model):
    from tests.livechat_helpers import authed, frames_until, make_inbox, make_visitor

    db = database_sync_to_async
    inbox = await db(make_inbox)()
    _session, token = await db(make_visitor)(inbox)
    ws, ready = await authed(token)
    assert ready["online"] is False
    agent = await db(django_user_model.objects.create_user)("late")
    await db(console_open)(agent)
    await db(availability.forget_chat_online)()
    await ws.send_json_to({"type": "ping"})
    pong = (await frames_until(ws, "pong"))[-1]
    assert pong == {"type": "pong", "online": True}
    await ws.disconnect()


# --- offline agents' tickets back to the pool ----------------------------------------------------
def _assigned_ticket(team, agent, sender):
    ticket = services.ingest(inbound(sender=sender, text="help")).message.ticket
    return services.assign(ticket, assignee=agent, team=team, actor=agent)


def test_an_offline_agents_tickets_return_to_the_pool_and_are_assigned_again(django_user_model):
    gone, there = (django_user_model.objects.create_user(n) for n in ("gone", "there"))
    team = routed_team("Support", TeamRouting.Mode.ROUND_ROBIN, gone, there)
    TeamRouting.objects.filter(team=team).update(release_when_offline=True)
    console_open(gone)
    console_open(there)
    ticket = _assigned_ticket(team, gone, "p@example.com")
    run_pass()
    assert Ticket.objects.get(pk=ticket.pk).assignee == gone  # online: it stays
    AgentPresence.objects.filter(user=gone).update(last_seen=timezone.now() - timezone.timedelta(minutes=5))
    run_pass()
    ticket.refresh_from_db()
    assert ticket.assignee == there
    notes = list(Message.objects.filter(ticket=ticket, direction="note").values_list("text", flat=True))
    assert "Returned to the pool: gone went offline." in notes


def test_without_the_option_an_offline_agent_keeps_their_tickets(django_user_model):
    gone, there = (django_user_model.objects.create_user(n) for n in ("gone", "there"))
    team = routed_team("Support", TeamRouting.Mode.ROUND_ROBIN, gone, there)
    console_open(there)
    ticket = _assigned_ticket(team, gone, "q@example.com")
    run_pass()
    assert Ticket.objects.get(pk=ticket.pk).assignee == gone


def test_choosing_offline_releases_too_but_pending_tickets_stay(django_user_model):
    agent = django_user_model.objects.create_user("agent")
    team = routed_team("Support", TeamRouting.Mode.OFF, agent)
    TeamRouting.objects.filter(team=team).update(release_when_offline=True)
    console_open(agent)
    open_one = _assigned_ticket(team, agent, "r@example.com")
    pending = _assigned_ticket(team, agent, "s@example.com")
    services.set_status(pending, Ticket.Status.PENDING, actor=agent)
    availability.set_status(agent, "offline")
    run_pass()
    assert Ticket.objects.get(pk=open_one.pk).assignee is None
    assert Ticket.objects.get(pk=pending.pk).assignee == agent


def test_the_release_option_alone_switches_routing_on(django_user_model):
    from django.db import connection

    from routing import engine, sinks

    team = Team.objects.create(name="Solo")
    TeamRouting.objects.create(team=team, release_when_offline=True)
    sinks.forget_configuration()
    with connection.cursor() as cursor:
        assert sinks._is_configured(cursor) is True
    assert engine.is_configured()
