"""Erasure per channel: after `erase`, nothing of the customer remains in any database row, on
disk, in the search index or in the event log; tickets stay, anonymised; the audit record holds
no personal data; an outgoing webhook hears `customer.erased`; a failure erases nothing."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from integrations.models import WebhookEndpoint
from livechat.models import VisitorSession
from privacy import actions
from privacy.models import PrivacyRequest
from tests.factories import inbound
from tests.privacy_helpers import NAME, SECRET, WRITERS, attachment_files, person, rows_mentioning
from tests.test_webhooks_out import FakeReceiver
from tickets import search, services
from tickets.models import Attachment, Customer, Event, Identity, InboundPayload, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_nothing_of_the_customer_remains_after_erasure(kind, client, agent, tmp_path,
                                                       django_capture_on_commit_callbacks):
    someone = person(kind, client, tmp_path, agent)
    customer, ticket = someone.customer, someone.ticket
    files = attachment_files(customer)
    # The setup really left the customer everywhere we are about to look.
    assert files and all(f.exists() for f in files)
    assert InboundPayload.objects.exists() or kind == "chat"  # chat arrives over the widget's socket/API
    assert search.search(SECRET).messages and search.search(SECRET).tickets
    assert rows_mentioning(someone.needles)
    statuses = list(ticket.messages.order_by("pk").values_list("direction", "status", "created_at"))

    with django_capture_on_commit_callbacks(execute=True):
        record = actions.erase(customer, actor=agent, via=PrivacyRequest.Via.CONSOLE)

    assert rows_mentioning(someone.needles) == []  # every row of every table, payloads decoded
    assert not any(f.exists() for f in files)
    assert not Identity.objects.filter(customer=customer).exists()
    assert not Attachment.objects.filter(message__ticket=ticket).exists()
    found = search.search(SECRET)
    assert (found.customers, found.tickets, found.messages) == ([], [], [])
    assert search.search(NAME.split()[1]).customers == []
    # The event log keeps only the erasure itself, with ids.
    left = list(Event.objects.filter(customer=customer).values_list("kind", flat=True))
    assert left == ["customer.erased"]
    assert not Event.objects.filter(ticket=ticket).exists()
    # The ticket and its message rows stay for the figures, emptied.
    ticket.refresh_from_db()
    assert ticket.customer_id == customer.pk and ticket.subject == ""
    assert list(ticket.messages.order_by("pk").values_list("direction", "status", "created_at")) == statuses
    assert set(ticket.messages.values_list("text", "html", "subject")) == {("", "", "")}
    customer.refresh_from_db()
    assert (customer.organisation, customer.notes) == ("", "")
    # The audit: ids and counts, nothing personal (rows_mentioning covered it; explicit here).
    record.refresh_from_db()
    assert record.action == "erase" and record.customer_id == customer.pk and record.actor == agent
    assert record.summary["messages"] == ticket.messages.count()
    assert record.summary["identities"] >= 1 and record.summary["payloads"] >= (kind != "chat")
    assert record.summary["attachments"] == len(files)


def test_other_customers_are_untouched(client, agent, tmp_path, django_capture_on_commit_callbacks):
    jane = person("sms", client, tmp_path, agent)
    other = services.ingest(inbound("max@example.net", "my bike order", channel="fake"))
    with django_capture_on_commit_callbacks(execute=True):
        actions.erase(jane.customer, actor=agent, via=PrivacyRequest.Via.COMMAND)
    kept = Message.objects.get(pk=other.message.pk)
    assert kept.text == "my bike order" and kept.identity.address == "max@example.net"
    assert search.search("bike").messages == [kept]
    assert Event.objects.filter(message=kept).exists()


def test_merged_customers_are_erased_with_the_one_they_were_merged_into(client, agent, tmp_path,
                                                                        django_capture_on_commit_callbacks):
    by_sms = person("sms", client, tmp_path, agent)
    by_telegram = person("telegram", client, tmp_path, agent)
    services.merge_customers(by_telegram.customer, by_sms.customer, actor=agent, reason=f"same {NAME}")
    with pytest.raises(actions.Refused, match=f"was merged into customer {by_sms.customer.pk}"):
        actions.erase(Customer.objects.get(pk=by_telegram.customer.pk), actor=agent, via="console")
    with django_capture_on_commit_callbacks(execute=True):
        actions.erase(by_sms.customer, actor=agent, via="console")
    assert rows_mentioning(by_sms.needles + by_telegram.needles + [f"same {NAME}"]) == []


def test_a_cc_participant_is_forgotten_on_other_customers_tickets(agent, django_capture_on_commit_callbacks):
    owner = services.ingest(inbound("owner@example.net", "hello", channel="fake")).message.ticket
    services.add_participant(owner, "fake", "cc.person@example.org")
    cc = services.ingest(inbound("cc.person@example.org", f"{SECRET} from the cc", channel="fake",
                                 hint={"ticket_id": owner.pk})).message
    assert cc.ticket_id == owner.pk  # a participant writing on someone else's ticket
    with django_capture_on_commit_callbacks(execute=True):
        actions.erase(cc.identity.customer, actor=agent, via="console")
    owner.refresh_from_db()
    assert ["fake", "cc.person@example.org"] not in owner.meta.get("participants", [])
    assert rows_mentioning(["cc.person@example.org", SECRET]) == []
    assert Message.objects.filter(ticket=owner, text="hello").exists()


def test_an_outgoing_webhook_is_told_with_ids_only(client, agent, tmp_path, settings, run_tasks,
                                                   django_capture_on_commit_callbacks):
    settings.HELPDESK_WEBHOOKS_ALLOW_PRIVATE = True
    receiver = FakeReceiver()
    try:
        WebhookEndpoint.objects.create(name="crm", url=receiver.url(), event_types=["customer.erased"])
        someone = person("whatsapp", client, tmp_path, agent)
        with django_capture_on_commit_callbacks(execute=True):
            actions.erase(someone.customer, actor=agent, via="api")
        for _ in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                run_tasks()
        assert [r["headers"]["X-Helpdesk-Event"] for r in receiver.requests] == ["customer.erased"]
        body = json.loads(receiver.requests[0]["body"])
        assert body["customer"] == someone.customer.pk
        assert body["data"]["tickets"] == [someone.ticket.pk]
        assert not any(n.lower() in receiver.requests[0]["body"].decode().lower() for n in someone.needles)
    finally:
        receiver.close()


def test_earlier_webhook_bodies_and_chat_sessions_about_them_are_deleted(client, agent, tmp_path,
                                                                        django_capture_on_commit_callbacks):
    from integrations.models import WebhookDelivery

    endpoint = WebhookEndpoint.objects.create(name="crm", url="https://crm.example.com/", event_types=["*"])
    someone = person("chat", client, tmp_path, agent)
    event = Event.objects.filter(ticket=someone.ticket, kind="message.created").first()
    WebhookDelivery.objects.create(endpoint=endpoint, event_seq=event.seq, event_type=event.kind,
                                   body=json.dumps({"ticket": someone.ticket.pk, "customer": someone.customer.pk,
                                                    "data": event.data}, separators=(",", ":")))
    assert VisitorSession.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        record = actions.erase(someone.customer, actor=agent, via="console")
    assert not WebhookDelivery.objects.exists() and not VisitorSession.objects.exists()
    assert record.summary["providers"]["webhooks"] == 1 and record.summary["providers"]["livechat"] >= 2


def test_a_failing_provider_erases_nothing(client, agent, tmp_path, settings, django_capture_on_commit_callbacks):
    someone = person("chat", client, tmp_path, agent)
    files = attachment_files(someone.customer)
    settings.HELPDESK_PERSONAL_DATA_PROVIDERS = [*settings.HELPDESK_PERSONAL_DATA_PROVIDERS,
                                                 "tests.test_privacy_erasure.BrokenProvider"]
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError, match="survey store down"):
        actions.erase(someone.customer, actor=agent, via="console")
    assert Identity.objects.filter(customer=someone.customer).exists()
    assert all(f.exists() for f in files)
    assert Ticket.objects.get(pk=someone.ticket.pk).subject
    assert not PrivacyRequest.objects.exists()
    assert VisitorSession.objects.exists()  # the livechat provider ran first: rolled back too


def test_a_provider_path_that_does_not_import_is_a_clear_error(agent, settings):
    customer = services.ingest(inbound("a@example.org", "hi", channel="fake")).message.customer
    settings.HELPDESK_PERSONAL_DATA_PROVIDERS = ["surveys.privacy.Nope"]
    with pytest.raises(ImproperlyConfigured, match="cannot import 'surveys.privacy.Nope'"):
        actions.erase(customer, actor=agent, via="console")
    assert Identity.objects.filter(customer=customer).exists()


class BrokenProvider:
    label = "surveys"

    def export(self, customer):
        return {}

    def erase(self, customer):
        raise RuntimeError("survey store down")


def test_payloads_are_matched_as_whole_tokens_including_those_arriving_after_the_scan(
        client, agent, tmp_path, django_capture_on_commit_callbacks):
    from tickets.services.erasure import erase_customer, scan_payloads

    someone = person("sms", client, tmp_path, agent)
    scan = scan_payloads(someone.customer)  # before the transaction, as actions.erase does
    late = InboundPayload.objects.create(adapter="sms", body=b"To=%2B15005550006&From=%2B14155550199&Body=hi")
    longer = InboundPayload.objects.create(adapter="sms", body=b"From=%2B141555501990&Body=another person")
    in_headers = InboundPayload.objects.create(adapter="email_pipe", body=b"From: someone <x@y.z>\r\n\r\nhi",
                                               headers={"X-Forwarded-For-Phone": "+14155550199"})
    with django_capture_on_commit_callbacks(execute=True):
        erase_customer(someone.customer, scan)
    assert not InboundPayload.objects.filter(pk__in=[late.pk, in_headers.pk]).exists()
    assert InboundPayload.objects.filter(pk=longer.pk).exists()  # +1415555019 9 0 is someone else
