"""The console's actions: reply (held when stale), notes with @mentions, tags, assignment,
moving a message, merging customers, retrying a failed delivery, and the compose constraints."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import inbound
from tickets import events, services, testing
from tickets.models import CustomerMerge, Event, Mention, Message, Team, Ticket
from tickets.testing import FakeAdapter

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


class ConstrainedAdapter(FakeAdapter):
    """A fake SMS-like channel that reports constraints, as the Twilio/Meta adapters do."""

    def compose_info(self, identity, text=""):
        segments = 1 + len(text) // 160
        info = {"segments": segments, "encoding": "GSM-7"}
        if "blocked" in text:
            info["blocked"] = "nope"
        return info


@pytest.fixture
def ticket():
    return Ticket.objects.get(pk=services.ingest(inbound("ada@example.com", "hello", channel="fake")).message.ticket_id)


def reply(console, ticket, text, **extra):
    data = {"text": text, "client_id": extra.pop("client_id", f"c-{text}"), **extra}
    return console.post(f"/console/tickets/{ticket.pk}/reply/", data, **JSON)


def test_a_reply_is_queued_once_per_client_id(console, ticket):
    first = reply(console, ticket, "on its way", seen_seq=events.current_seq())
    again = reply(console, ticket, "on its way", seen_seq=events.current_seq())
    assert first.status_code == 200 and first.json()["ok"]
    assert first.json()["message"] == again.json()["message"]
    assert Message.objects.filter(direction="outbound").count() == 1


def test_a_reply_over_new_activity_is_held_with_the_draft_kept(console, ticket):
    seen = events.current_seq()
    services.ingest(inbound("ada@example.com", "wait, one more thing", channel="fake"))
    response = reply(console, ticket, "my answer", seen_seq=seen)
    assert response.status_code == 409
    body = response.json()
    assert body["stale"] and "review" in body["error"]
    assert [e["data"]["text"] for e in body["events"]] == ["wait, one more thing"]
    assert not Message.objects.filter(direction="outbound").exists()
    # Without JavaScript the draft survives the redirect in the session.
    plain = console.post(f"/console/tickets/{ticket.pk}/reply/", {"text": "my answer", "seen_seq": seen})
    assert plain.status_code == 302
    page = console.get(f"/console/tickets/{ticket.pk}/")
    assert page.context["draft"] == "my answer"
    assert "review" in page.content.decode()
    # Having seen it, the agent sends again and it goes.
    assert reply(console, ticket, "my answer", seen_seq=events.current_seq()).status_code == 200


def test_a_reply_carries_attachments_and_email_fields(console):
    ticket = services.ingest(inbound("ada@example.com", "hello", adapter="email")).message.ticket
    upload = SimpleUploadedFile("report.pdf", b"%PDF-1.4", content_type="application/pdf")
    response = console.post(f"/console/tickets/{ticket.pk}/reply/",
                            {"text": "see attached", "client_id": "x1", "attachments": [upload],
                             "cc": "boss@example.com; cfo@example.com", "subject": "Re: hello"}, **JSON)
    assert response.json()["ok"]
    message = Message.objects.get(direction="outbound")
    assert [a.filename for a in message.attachments.all()] == ["report.pdf"]
    assert message.meta["cc"] == ["boss@example.com", "cfo@example.com"] and message.subject == "Re: hello"
    ticket.refresh_from_db()  # cc'd people stay on the ticket and may reply into it
    assert ["email", "cfo@example.com"] in ticket.meta["participants"]


def test_a_cc_on_a_channel_without_cc_is_refused(console, ticket):
    response = reply(console, ticket, "hi", cc="boss@example.com")
    assert response.status_code == 400 and "email" in response.json()["error"]


def test_a_refused_reply_says_why(console, ticket):
    response = reply(console, ticket, "   ")
    assert response.status_code == 400 and response.json()["error"]


def test_a_note_mentioning_an_agent_notifies_them(console, ticket, bob, published):
    response = console.post(f"/console/tickets/{ticket.pk}/note/", {"text": "@bob can you check? cc @nobody"}, **JSON)
    assert response.json()["ok"]
    mention = Mention.objects.get()
    assert mention.user == bob and mention.read_at is None
    event = Event.objects.get(kind="agent.mentioned")
    assert event.data["user"] == bob.pk and event.ticket_id == ticket.pk
    assert Message.objects.get(direction="note").text.startswith("@bob")
    # Bob opening the ticket reads it (the header's bell counts it: tests/test_notifications.py).
    console.force_login(bob)
    console.get(f"/console/tickets/{ticket.pk}/")
    mention.refresh_from_db()
    assert mention.read_at is not None


def test_status_priority_assignment_and_tags(console, ticket, bob):
    console.post(f"/console/tickets/{ticket.pk}/status/", {"status": "pending"}, **JSON)
    console.post(f"/console/tickets/{ticket.pk}/priority/", {"priority": "3"}, **JSON)
    console.post(f"/console/tickets/{ticket.pk}/assign/", {"assignee": bob.pk}, **JSON)
    response = console.post(f"/console/tickets/{ticket.pk}/tags/", {"tags": "Billing, VIP,billing"}, **JSON)
    assert response.json()["ok"]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("pending", 3, bob)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "vip"]
    tag_event = Event.objects.filter(kind="ticket.updated", data__change="tags").get()
    assert tag_event.data["tags"] == ["billing", "vip"]
    assert console.post(f"/console/tickets/{ticket.pk}/status/", {"status": "bogus"}, **JSON).status_code == 400


def test_an_agent_edits_the_customer_profile_and_other_consoles_hear_it(console, ticket, client, restricted):
    response = console.post(f"/console/tickets/{ticket.pk}/customer/",
                            {"name": " Ada Lovelace ", "organisation": "Analytical Engines Ltd",
                             "notes": "Prefers email.\nVIP since 2024."}, **JSON)
    assert response.json()["ok"]
    customer = ticket.customer
    customer.refresh_from_db()
    assert (customer.name, customer.organisation, customer.notes) == (
        "Ada Lovelace", "Analytical Engines Ltd", "Prefers email.\nVIP since 2024.")
    event = Event.objects.get(kind="customer.updated")
    assert event.customer_id == customer.pk and event.ticket_id == ticket.pk  # scoped like the ticket
    assert event.data["changed"] == ["name", "organisation", "notes"]
    page = console.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert 'id="customer-profile-link" title="Customer profile">Ada Lovelace<' in page and "VIP since 2024." in page
    # Saving the same values again changes nothing and says nothing.
    console.post(f"/console/tickets/{ticket.pk}/customer/", {"name": "Ada Lovelace"}, **JSON)
    assert Event.objects.filter(kind="customer.updated").count() == 1
    too_long = console.post(f"/console/tickets/{ticket.pk}/customer/", {"name": "x" * 201}, **JSON)
    assert too_long.status_code == 400 and "200" in too_long.json()["error"]
    # An agent who may not see the ticket may not edit its customer through it.
    ticket.team = Team.objects.create(name="Billing")
    ticket.save(update_fields=["team"])
    client.force_login(restricted)
    assert client.post(f"/console/tickets/{ticket.pk}/customer/", {"name": "Mallory"}, **JSON).status_code == 403
    customer.refresh_from_db()
    assert customer.name == "Ada Lovelace"


def test_moving_a_message_to_another_ticket_of_the_same_customer(console, ticket, agent):
    other = services.ingest(inbound("ada@example.com", "separate matter", channel="chat"))
    services.merge_customers(other.message.customer, ticket.customer, actor=agent)
    stray = services.ingest(inbound("ada@example.com", "belongs to the chat", channel="fake")).message
    assert stray.ticket_id == ticket.pk
    response = console.post(f"/console/messages/{stray.pk}/move/", {"ticket": f"#{other.message.ticket_id}"}, **JSON)
    assert response.json()["ok"]
    stray.refresh_from_db()
    assert stray.ticket_id == other.message.ticket_id
    assert Event.objects.filter(kind="message.moved", message=stray).count() == 2
    # Never into another customer's ticket.
    stranger = services.ingest(inbound("eve@example.com", "hi", channel="fake"))
    refused = console.post(f"/console/messages/{stray.pk}/move/", {"ticket": stranger.message.ticket_id}, **JSON)
    assert refused.status_code == 400
    stray.refresh_from_db()
    assert stray.ticket_id == other.message.ticket_id


def test_merging_customers_from_the_ticket_page_and_undoing_it(console, ticket):
    twin = services.ingest(inbound("ada.l@example.org", "same person", channel="fake"))
    response = console.post(f"/console/tickets/{ticket.pk}/merge/", {"customer": "ada.l@example.org"}, **JSON)
    assert response.json()["ok"]
    merge = CustomerMerge.objects.get()
    assert merge.actor is not None and merge.target_id == ticket.customer_id
    assert Message.objects.get(pk=twin.message.pk).customer_id == ticket.customer_id
    console.post(f"/console/merges/{merge.pk}/undo/", {"ticket": ticket.pk})
    assert Message.objects.get(pk=twin.message.pk).customer_id == twin.message.customer_id
    assert console.post(f"/console/tickets/{ticket.pk}/merge/", {"customer": "nobody@x.org"}, **JSON).status_code == 400


def test_a_failed_delivery_shows_its_reason_and_can_be_retried(console, ticket, run_tasks,
                                                               django_capture_on_commit_callbacks):
    testing.refuse_next()
    with django_capture_on_commit_callbacks(execute=True):
        reply(console, ticket, "refused please")
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    failed = Message.objects.get(direction="outbound")
    assert failed.status == "failed" and failed.error_message
    page = console.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert failed.error_message in page and f"/console/messages/{failed.pk}/retry/" in page
    Message.objects.filter(pk=failed.pk).update(text="now it works")
    with django_capture_on_commit_callbacks(execute=True):
        assert console.post(f"/console/messages/{failed.pk}/retry/", **JSON).json()["ok"]
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    failed.refresh_from_db()
    assert failed.status == "sent"


def test_compose_shows_the_channel_constraints(console, settings):
    settings.HELPDESK_CHANNELS = {**settings.HELPDESK_CHANNELS,
                                  "limited": {"BACKEND": "tests.test_console_actions.ConstrainedAdapter",
                                              "channel": "limited"}}
    result = services.ingest(inbound("+14155550100", "hi", channel="limited", adapter="limited"))
    ticket_id = result.message.ticket_id
    page = console.get(f"/console/tickets/{ticket_id}/")
    options = page.context["channel_options"]
    assert options == [{"channel": "limited", "address": "+14155550100", "identity": result.message.identity_id,
                        "adapter": "limited", "info": {"segments": 1, "encoding": "GSM-7"}}]
    info = console.get(f"/console/tickets/{ticket_id}/compose/", {"channel": "limited", "text": "x" * 400}).json()
    assert info["info"]["segments"] == 3
    assert console.get(f"/console/tickets/{ticket_id}/compose/", {"channel": "limited", "text": "blocked"}).json()[
        "info"]["blocked"] == "nope"
    assert json.loads(page.content.decode().split('id="channel-options" type="application/json">')[1]
                      .split("</script>")[0])[0]["info"]["encoding"] == "GSM-7"


def test_an_opted_out_identity_is_blocked_before_sending(console, ticket):
    from django.utils import timezone

    ticket.customer.identities.update(opted_out_at=timezone.now())
    options = console.get(f"/console/tickets/{ticket.pk}/").context["channel_options"]
    assert "opted out" in options[0]["info"]["blocked"]
