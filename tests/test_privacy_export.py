"""Export per channel: one zip with the customer's identities, tickets, messages, notes and
attachment files, other apps' data through the providers; audited; the same from the console,
the API and the command."""

import io
import json
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from api.models import ApiToken, IdempotencyKey
from privacy import actions
from privacy.models import PrivacyRequest
from tests.privacy_helpers import NAME, SECRET, WRITERS, person

pytestmark = pytest.mark.django_db


def unzip(data: bytes) -> tuple[dict, zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return json.loads(archive.read("customer.json")), archive


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_the_export_holds_everything_about_the_customer(kind, client, agent, tmp_path):
    someone = person(kind, client, tmp_path, agent)
    with actions.export(someone.customer, actor=agent, via="command") as archive:
        document, files = unzip(archive.read())
    assert document["customer"]["name"] == NAME and SECRET in document["customer"]["notes"]
    assert [i["channel"] for i in document["identities"]] == [someone.channel]
    [ticket] = document["tickets"]
    directions = [m["direction"] for m in ticket["messages"]]
    assert directions == ["inbound", "outbound", "note"]
    assert all(SECRET in m["text"] for m in ticket["messages"])
    # Every attachment listed is in the zip, with its bytes.
    listed = [a for m in ticket["messages"] for a in m["attachments"]]
    assert listed and all(a["file"] in files.namelist() for a in listed)
    label = next(a for a in listed if a["filename"] == "label.txt")
    assert files.read(label["file"]) == f"label for {NAME}".encode()
    # One JSON per provider.
    assert {"livechat.json", "email.json", "webhooks.json", "api.json"} <= set(files.namelist())
    audit = PrivacyRequest.objects.get()
    assert (audit.action, audit.customer_id, audit.via) == ("export", someone.customer.pk, "command")


def test_chat_export_includes_the_visitor_session(client, agent, tmp_path):
    someone = person("chat", client, tmp_path, agent)
    with actions.export(someone.customer, actor=agent, via="console") as archive:
        _document, files = unzip(archive.read())
    sessions = json.loads(files.read("livechat.json"))["customers"][0]["visitor_sessions"]
    assert [(s["name"], s["email"]) for s in sessions] == [(NAME, "jane.chat@example.org")]


def test_a_provider_can_add_files(client, agent, tmp_path, settings):
    settings.HELPDESK_PERSONAL_DATA_PROVIDERS = ["tests.test_privacy_export.SurveyProvider"]
    someone = person("sms", client, tmp_path, agent)
    with actions.export(someone.customer, actor=agent, via="console") as archive:
        _document, files = unzip(archive.read())
    assert json.loads(files.read("surveys.json"))["customers"] == [
        {"customer": someone.customer.pk, "answers": [{"score": 5}]}]
    assert files.read(f"surveys/{someone.customer.pk}/answer.txt") == b"great"


class SurveyProvider:
    label = "surveys"

    def export(self, customer):
        return {"answers": [{"score": 5}], "files": {"../../answer.txt": b"great"}}

    def erase(self, customer):
        return 0


# --- the three ways in ---------------------------------------------------------------------------

@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("root", password="pw")


def test_console_page_export_and_erase_for_admins_only(client, agent, admin_user, tmp_path,
                                                       django_capture_on_commit_callbacks):
    someone = person("telegram", client, tmp_path, agent)
    page = f"/console/customers/{someone.customer.pk}/privacy/"
    client.force_login(agent)
    assert client.get(page).status_code == 403  # an agent without the privacy permissions
    assert client.post(page + "erase/", {"confirm": someone.customer.pk}).status_code == 403
    assert b"privacy-link" not in client.get(f"/console/tickets/{someone.ticket.pk}/").content

    client.force_login(admin_user)
    assert b"privacy-link" in client.get(f"/console/tickets/{someone.ticket.pk}/").content
    response = client.get(page)
    assert response.status_code == 200 and b"5550001234" in response.content
    download = client.get(page + "export/")
    assert download["Content-Type"] == "application/zip"
    document, _files = unzip(b"".join(download.streaming_content))
    assert document["identities"][0]["address"] == "5550001234"

    refused = client.post(page + "erase/", {"confirm": "nope"}, follow=True)
    assert b"Type the customer number to confirm" in refused.content
    assert someone.customer.identities.exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(page + "erase/", {"confirm": f"#{someone.customer.pk}"}, follow=True)
    assert b"was erased" in done.content and b"5550001234" not in done.content
    assert not someone.customer.identities.exists()
    ticket_page = client.get(f"/console/tickets/{someone.ticket.pk}/")  # still there, anonymised
    assert ticket_page.status_code == 200 and SECRET.encode() not in ticket_page.content
    assert list(PrivacyRequest.objects.order_by("pk").values_list("action", "via", "actor")) == [
        ("export", "console", admin_user.pk), ("erase", "console", admin_user.pk)]


def test_api_export_and_erase_need_the_privacy_permissions(client, agent, tmp_path,
                                                           django_capture_on_commit_callbacks):
    someone = person("messenger", client, tmp_path, agent)
    token = ApiToken(name="dpo", user=agent)
    raw = token.set_new_secret()
    token.save()
    auth = {"Authorization": f"Bearer {raw}"}
    url = f"/api/v1/customers/{someone.customer.pk}"
    assert client.get(url + "/export", headers=auth).json()["code"] == "forbidden"
    agent.user_permissions.add(*Permission.objects.filter(codename__in=["export_customer", "erase_customer"]))

    note = client.post(f"/api/v1/tickets/{someone.ticket.pk}/notes", json.dumps({"text": f"{NAME} again"}),
                       content_type="application/json", headers={**auth, "Idempotency-Key": "note-1"})
    assert note.status_code == 201, note.content
    assert IdempotencyKey.objects.filter(key="note-1").exists()  # a stored copy of the note, for replays

    download = client.get(url + "/export", headers=auth)
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert unzip(b"".join(download.streaming_content))[0]["customer"]["id"] == someone.customer.pk
    wrong = client.post(url + "/erase", json.dumps({"confirm": someone.customer.pk + 1}),
                        content_type="application/json", headers=auth)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "not_confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        erased = client.post(url + "/erase", json.dumps({"confirm": someone.customer.pk}),
                             content_type="application/json", headers=auth)
    assert erased.status_code == 200, erased.content
    body = erased.json()
    assert body["customer"] == someone.customer.pk and body["summary"]["identities"] == 1
    assert PrivacyRequest.objects.get(pk=body["request"]).via == "api"
    assert not IdempotencyKey.objects.filter(key="note-1").exists()
    assert "/api/v1/customers/{customer_id}/erase" in client.get("/api/v1/openapi.json").json()["paths"]


def test_commands_find_the_customer_by_address_and_confirm(client, agent, tmp_path, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    someone = person("whatsapp", client, tmp_path, agent)
    target = tmp_path / "out.zip"
    out = io.StringIO()
    call_command("export_customer", "+1 415 555 0188", "--channel", "whatsapp", "-o", str(target), stdout=out)
    assert f"Customer {someone.customer.pk} exported" in out.getvalue()
    assert unzip(target.read_bytes())[0]["identities"][0]["address"] == "+14155550188"
    with pytest.raises(CommandError, match="exists; choose another --output"):
        call_command("export_customer", str(someone.customer.pk), "-o", str(target))
    with pytest.raises(CommandError, match="No customer has the address 'nobody@example.org'"):
        call_command("export_customer", "nobody@example.org")

    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Not confirmed; nothing erased"):
        call_command("erase_customer", str(someone.customer.pk))
    monkeypatch.setattr("builtins.input", lambda prompt: str(someone.customer.pk))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("erase_customer", "+14155550188", "--channel", "whatsapp", stdout=out)
    assert f"Customer {someone.customer.pk} erased" in out.getvalue()
    assert PrivacyRequest.objects.filter(action="erase", via="command", actor=None).count() == 1
