"""Who may use the API: hashed tokens, revocation, the console's permission rules (agents,
and per-ticket visibility that teams may narrow)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from api.models import ApiToken
from tests.factories import inbound
from tests.fakes.api import ApiClient, create_token
from tickets import policy, services
from tickets.models import Message, Team, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    return services.ingest(inbound("ada@example.com", "hello", channel="fake")).message.ticket


def test_no_token_is_a_401_with_a_challenge():
    response = ApiClient(None).get("/tickets")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("raw", ["nonsense", "hd_deadbeef_wrong", "Bearer", "hd_" + "x" * 300])
def test_a_wrong_token_is_a_401(agent, raw):
    create_token(agent)
    assert ApiClient(raw).get("/tickets").status_code == 401


def test_the_secret_is_stored_only_as_a_hash(agent):
    raw = create_token(agent)
    token = ApiToken.objects.get()
    assert raw.startswith(f"hd_{token.prefix}_") and len(raw) > 40
    assert raw not in (token.key_hash, token.prefix, token.name)
    assert ApiClient(raw).get("/me").json() == {"user": agent.pk, "username": "agent", "token": "test"}
    assert ApiToken.objects.get().last_used_at is not None


def test_a_revoked_or_expired_token_or_an_inactive_user_is_refused(agent):
    raw = create_token(agent)
    api = ApiClient(raw)
    assert api.get("/tickets").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get("/tickets").status_code == 401
    ApiToken.objects.update(expires_at=None, revoked_at=timezone.now())
    assert api.get("/tickets").status_code == 401
    ApiToken.objects.update(revoked_at=None)
    agent.is_active = False
    agent.save()
    assert api.get("/tickets").status_code == 401


def test_a_user_who_is_not_an_agent_is_forbidden(django_user_model, ticket):
    customer_user = django_user_model.objects.create_user("shopper")
    api = ApiClient(create_token(customer_user))
    for response in (api.get("/tickets"), api.get(f"/tickets/{ticket.pk}"),
                     api.post(f"/tickets/{ticket.pk}/notes", {"text": "sneaky"})):
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert not Message.objects.filter(direction="note").exists()


@pytest.fixture
def team_rule():
    """A group of restricted agents: the tickets permissions minus view_all_teams, so they see
    only their teams' tickets and tickets with no team (tickets.policy)."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="Restricted agents")
    group.permissions.set(Permission.objects.filter(content_type__app_label="tickets")
                          .exclude(codename="view_all_teams"))
    return group


def test_team_visibility_applies_to_every_endpoint(team_rule, agent, django_user_model):
    from tickets.management.commands.seed_demo import ensure_agents_group

    ensure_agents_group()
    outsider = django_user_model.objects.create_user("olga")
    outsider.groups.add(team_rule)
    billing = Team.objects.create(name="Billing")
    billing.members.add(agent)
    private = services.ingest(inbound("vip@example.com", "invoice question", channel="fake")).message.ticket
    services.assign(private, assignee=agent, team=billing, actor=agent)
    public = services.ingest(inbound("vip@example.com", "another thing", channel="fake",
                                     hint={"join_open_ticket": False})).message.ticket
    assert public.pk != private.pk and public.customer_id == private.customer_id

    member, other = ApiClient(create_token(agent)), ApiClient(create_token(outsider))
    assert {t["id"] for t in member.get("/tickets").json()["items"]} == {private.pk, public.pk}
    assert [t["id"] for t in other.get("/tickets").json()["items"]] == [public.pk]

    assert member.get(f"/tickets/{private.pk}").status_code == 200
    for response in (
        other.get(f"/tickets/{private.pk}"),
        other.get(f"/tickets/{private.pk}/messages"),
        other.post(f"/tickets/{private.pk}/messages", {"text": "hi"}),
        other.post(f"/tickets/{private.pk}/notes", {"text": "hi"}),
        other.post(f"/tickets/{private.pk}/assign", {"assignee": outsider.pk}),
        other.post(f"/tickets/{private.pk}/status", {"status": "solved"}),
        other.post(f"/tickets/{private.pk}/priority", {"priority": 0}),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Ticket.objects.get(pk=private.pk).status == "new"
    assert private.messages.count() == 1

    history = other.get(f"/customers/{private.customer_id}/messages").json()["items"]
    assert [m["ticket"] for m in history] == [public.pk]
    full = member.get(f"/customers/{private.customer_id}/messages").json()["items"]
    assert [m["ticket"] for m in full] == [private.pk, public.pk]


def test_create_api_token_command_prints_a_working_token(agent):
    out = StringIO()
    call_command("create_api_token", "agent", "--name", "CRM sync", "--expires-days", "30",
                 stdout=out, stderr=StringIO())
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(name="CRM sync")
    assert token.expires_at > timezone.now() + timedelta(days=29)
    assert ApiClient(raw).get("/me").json()["token"] == "CRM sync"


def test_create_api_token_for_an_integration_creates_its_service_user(django_user_model):
    out = StringIO()
    call_command("create_api_token", "shop-bot", "--integration", stdout=out, stderr=StringIO())
    user = django_user_model.objects.get(username="shop-bot")
    assert not user.has_usable_password() and policy.is_agent(user)
    assert ApiClient(out.getvalue().strip()).get("/tickets").status_code == 200


def test_create_api_token_refuses_unknown_users_and_non_agents(django_user_model):
    with pytest.raises(CommandError, match="No user 'ghost'"):
        call_command("create_api_token", "ghost", stdout=StringIO(), stderr=StringIO())
    django_user_model.objects.create_user("plain")
    with pytest.raises(CommandError, match="'plain' is not an agent"):
        call_command("create_api_token", "plain", stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()


def test_the_admin_shows_a_new_token_once(admin_client, agent):
    response = admin_client.post("/admin/api/apitoken/add/", {"name": "Zapier", "user": agent.pk}, follow=True)
    assert response.status_code == 200
    token = ApiToken.objects.get(name="Zapier")
    shown = [str(m) for m in response.context["messages"]]
    raw = next(word for m in shown for word in m.split() if word.startswith("hd_"))
    assert ApiClient(raw).get("/me").json()["token"] == "Zapier"
    assert raw not in admin_client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
