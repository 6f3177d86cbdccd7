"""Real concurrency on PostgreSQL: one survey per customer per period holds when several of
their tickets' surveys fall due at the same moment."""

import pytest

from surveys import services as survey_services
from surveys.models import SURVEY_CHANNELS, Survey, SurveySettings
from tests.factories import inbound, run_at_once
from tickets import services
from tickets.models import Ticket

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_surveys_due_at_once_for_one_customer_send_one(agent):
    SurveySettings.objects.update_or_create(pk=1, defaults={"delay_minutes": 0, "channels": list(SURVEY_CHANNELS)})
    surveys = []
    for i in range(8):
        message = services.ingest(inbound("+14155550100", f"question {i}", channel="sms", adapter="sms")).message
        services.reply(message.ticket, author=agent, text="answered")
        services.set_status(message.ticket, Ticket.Status.CLOSED)  # the next message opens a new ticket
        surveys.append(survey_services.schedule(message.ticket_id))
    assert len({s.ticket_id for s in surveys}) == 8
    errors = run_at_once(lambda i: survey_services.send(surveys[i].pk, surveys[i].generation), count=8)
    assert errors == []
    statuses = sorted(Survey.objects.values_list("status", flat=True))
    assert statuses == ["sent"] + ["skipped"] * 7
