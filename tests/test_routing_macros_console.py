"""Macros edited in the console: any agent writes personal ones, team leads (routing.change_macro)
shared and team ones; validation says what is wrong; the preview fills the placeholders on a
sample ticket without saving anything."""

import pytest
from django.contrib.auth.models import Permission

from routing.models import Macro
from tickets.models import Team

pytestmark = pytest.mark.django_db


def form(**values):
    data = {"name": "Thanks", "shortcut": "", "reply": "", "status": "", "priority": "", "add_tags": "",
            "remove_tags": "", "scope": "personal", "save": "1"}
    data.update(values)
    return data


@pytest.fixture
def lead(django_user_model):
    user = django_user_model.objects.create_user("lead", first_name="Lena")
    user.user_permissions.add(Permission.objects.get(codename="change_macro"))
    from tickets.management.commands.seed_demo import ensure_agents_group

    user.groups.add(ensure_agents_group())
    return user


def test_an_agent_writes_a_personal_macro(console, agent):
    answer = console.post("/console/routing/macros/new/", form(reply="Hi {customer_first_name}", shortcut="3",
                                                              add_tags="thanks, vip"))
    assert answer.status_code == 302
    macro = Macro.objects.get()
    assert (macro.owner, macro.team, macro.shortcut, macro.reply) == (agent, None, "3", "Hi {customer_first_name}")
    page = console.get("/console/routing/macros/")
    assert "Alt+3" in page.content.decode() and [m.name for m in page.context["mine"]] == ["Thanks"]


def test_an_agent_cannot_make_a_shared_macro(console):
    answer = console.post("/console/routing/macros/new/", form(reply="Hi", scope="shared"))
    assert answer.status_code == 200 and Macro.objects.count() == 0
    assert "Select a valid choice" in answer.content.decode()


@pytest.mark.parametrize(("values", "error"), [
    ({"reply": "Hi {customer}"}, "Unknown placeholder {customer}"),
    ({"reply": "Hi", "shortcut": "0"}, "one digit from 1 to 9"),
    ({"reply": "Hi", "shortcut": "x"}, "one digit from 1 to 9"),
    ({}, "A macro must do something"),
    ({"reply": "Hi", "priority": "9"}, "Select a valid choice"),
])
def test_validation_names_each_mistake(console, values, error):
    answer = console.post("/console/routing/macros/new/", form(**values))
    assert answer.status_code == 200 and Macro.objects.count() == 0
    assert error in answer.content.decode()


def test_two_of_my_macros_cannot_share_a_shortcut(console, agent):
    Macro.objects.create(name="First", owner=agent, reply="a", shortcut="2")
    Macro.objects.create(name="Shared one", reply="b", shortcut="5")
    answer = console.post("/console/routing/macros/new/", form(reply="c", shortcut="2"))
    assert "Alt+2 already applies &#x27;First&#x27;." in answer.content.decode()
    answer = console.post("/console/routing/macros/new/", form(reply="c", shortcut="5"))
    assert "Alt+5 already applies &#x27;Shared one&#x27;." in answer.content.decode()
    assert Macro.objects.count() == 2


def test_preview_fills_placeholders_on_a_sample_and_saves_nothing(console):
    data = form(reply="Hi {customer_first_name}, about #{ticket_id}. {agent_name}", status="solved", priority="2")
    del data["save"]
    data["preview"] = "1"
    answer = console.post("/console/routing/macros/new/", data)
    assert answer.status_code == 200 and Macro.objects.count() == 0
    preview = answer.context["preview"]
    assert preview["reply"] == "Hi Jane, about #1234. Agnes"
    assert preview["changes"] == ["status: Solved", "priority: High"]
    assert "Hi Jane, about #1234. Agnes" in answer.content.decode()


def test_a_team_lead_writes_shared_and_team_macros(client, lead):
    client.force_login(lead)
    team = Team.objects.create(name="Billing")
    assert client.post("/console/routing/macros/new/", form(name="Refund", reply="Refunded", scope="shared",
                                                           team=team.pk)).status_code == 302
    macro = Macro.objects.get()
    assert (macro.owner, macro.team) == (None, team)
    assert client.post(f"/console/routing/macros/{macro.pk}/", form(name="Refund!", reply="Refunded", scope="shared",
                                                                    team=team.pk)).status_code == 302
    assert Macro.objects.get().name == "Refund!"


def test_agents_edit_only_their_own(console, agent, bob):
    shared = Macro.objects.create(name="Shared", reply="x")
    bobs = Macro.objects.create(name="Bob's", owner=bob, reply="y")
    mine = Macro.objects.create(name="Mine", owner=agent, reply="z")
    assert console.get(f"/console/routing/macros/{shared.pk}/").status_code == 403
    assert console.get(f"/console/routing/macros/{bobs.pk}/").status_code == 404
    assert console.post(f"/console/routing/macros/{bobs.pk}/delete/").status_code == 404
    assert console.post(f"/console/routing/macros/{mine.pk}/delete/").status_code == 302
    assert sorted(Macro.objects.values_list("name", flat=True)) == ["Bob's", "Shared"]
