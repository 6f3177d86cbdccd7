"""Inboxes: each way in is recorded on the ticket (tickets.Ticket.inbox, a plain key set by
ingest from the adapter's `recipient`), routed to its inbox's team, and has a queue view."""

import pytest

from routing.engine import run_pass
from routing.models import Inbox
from tests.factories import inbound
from tests.routing_helpers import routing_cursor  # noqa: F401 - autouse fixture
from tickets import services
from tickets.channels import inbox_key
from tickets.models import Team

pytestmark = pytest.mark.django_db


def test_the_inbox_key_names_the_channel_and_recipient_and_a_bare_channel_is_the_default():
    assert inbox_key("email", "support@x.test") == "email:support@x.test"
    assert inbox_key("sms", "") == "sms"


def test_a_new_ticket_records_the_inbox_it_came_in_through_and_a_follow_up_keeps_it():
    first = services.ingest(inbound(channel="sms", sender="+14155550101", recipient="+14155550100"))
    later = services.ingest(inbound(channel="sms", sender="+14155550101", recipient="+14155550199"))
    assert first.message.ticket.inbox == "sms:+14155550100"
    assert later.message.ticket_id == first.message.ticket_id
    first.message.ticket.refresh_from_db()
    assert first.message.ticket.inbox == "sms:+14155550100"


def test_without_a_recipient_the_ticket_is_in_its_channels_default_inbox():
    result = services.ingest(inbound(channel="chat", sender="visitor-1"))
    assert result.message.ticket.inbox == "chat"


def test_email_recipient_is_the_support_address_written_to_plus_tokens_stripped(settings):
    from channels_email.inbound import _support_recipient

    settings.HELPDESK_EMAIL_OWN_ADDRESSES = ["sales@helpdesk.example.com"]
    own = {"support@helpdesk.example.com", "sales@helpdesk.example.com"}
    assert _support_recipient([("", "friend@else.test"), ("", "sales@helpdesk.example.com")], own) == \
        "sales@helpdesk.example.com"
    assert _support_recipient([("", "support+t12-abc@helpdesk.example.com")], own) == "support@helpdesk.example.com"
    assert _support_recipient([("", "friend@else.test")], own) == ""


def test_mail_through_the_pipe_lands_in_the_inbox_of_the_address_it_was_sent_to(settings):
    from channels_email.pipe import ingest_raw

    settings.HELPDESK_EMAIL_OWN_ADDRESSES = ["sales@helpdesk.example.com"]
    raw = (b"From: Ada <ada@example.com>\r\nTo: sales@helpdesk.example.com\r\nSubject: Quote\r\n"
           b"Message-ID: <q1@example.com>\r\n\r\nA quote please\r\n")
    ingest_raw(raw)
    from tickets.models import Ticket

    assert Ticket.objects.get().inbox == "email:sales@helpdesk.example.com"


def test_twilio_sets_the_number_written_to_as_recipient():
    from django.http import QueryDict

    from channels_sms.adapter import SmsAdapter

    form = QueryDict(mutable=True)
    form.update({"MessageSid": "SM1", "From": "+14155550101", "To": "+14155550100", "Body": "hi"})
    msg = SmsAdapter("sms").inbound_message(form)
    assert msg.recipient == "+14155550100" and msg.inbox == "sms:+14155550100"


def test_a_new_ticket_joins_its_inbox_team_exact_inbox_first_then_the_channel_default():
    sales, support = Team.objects.create(name="Sales"), Team.objects.create(name="Support")
    Inbox.objects.create(key="email:sales@x.test", name="Sales mail", team=sales)
    Inbox.objects.create(key="email", name="Support mail", team=support)
    to_sales = services.ingest(inbound(sender="a@example.com", recipient="sales@x.test")).message.ticket
    to_default = services.ingest(inbound(sender="b@example.com", recipient="other@x.test")).message.ticket
    run_pass()
    to_sales.refresh_from_db()
    to_default.refresh_from_db()
    assert (to_sales.team, to_default.team) == (sales, support)
    from tickets.models import Event

    changed = Event.objects.filter(ticket=to_sales, kind="ticket.updated").get()
    assert changed.data["actor"] == "Sales mail" and changed.data["team"] == sales.pk


def test_the_queue_has_a_view_per_inbox(console):
    services.ingest(inbound(channel="sms", sender="+14155550101", recipient="+14155550100"))
    services.ingest(inbound(channel="sms", sender="+14155550102"))
    page = console.get("/console/?view=inbox:sms:%2B14155550100")
    assert page.context["view"] == "inbox:sms:+14155550100"
    assert [t.channel for t in page.context["tickets"]] == ["sms"] and len(page.context["tickets"]) == 1
    views = {v.key: v.count for v in page.context["views"]}
    assert views["inbox:sms:+14155550100"] == 1
    assert "inbox:sms" not in views  # the default inbox is the channel's own view


def test_inbox_views_are_labelled_by_name_and_unnamed_ones_by_key(console):
    from routing.models import Inbox

    Inbox.objects.create(key="sms:+14155550100", name="Sales line")
    services.ingest(inbound(channel="sms", sender="+14155550101", recipient="+14155550100"))
    services.ingest(inbound(channel="sms", sender="+14155550102", recipient="+14155550199"))
    page = console.get("/console/")
    labels = {v.key: v.label for v in page.context["views"] if v.key.startswith("inbox:")}
    assert labels == {"inbox:sms:+14155550100": "Sales line", "inbox:sms:+14155550199": "sms:+14155550199"}
    assert "Sales line" in page.content.decode()
