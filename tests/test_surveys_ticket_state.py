"""The survey's state in the console's ticket sidebar: none yet, scheduled, sent, skipped (with
the reason), answered (rating, comment, replaced answers)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from surveys import services as survey_services
from surveys.models import Survey
from tests.factories import inbound
from tickets import services

pytestmark = pytest.mark.django_db


def sidebar(console, ticket) -> str:
    html = console.get(f"/console/tickets/{ticket.pk}/").content.decode()
    found = re.search(r'<section class="survey-state" id="survey-state">(.*?)</section>', html, re.S)
    assert found, "the survey part is missing from the ticket page"
    return re.sub(r"\s+", " ", found.group(1))


@pytest.fixture
def ticket(agent):
    message = services.ingest(inbound("+14155550123", "parcel late", channel="sms")).message
    services.reply(message.ticket, author=agent, text="Sorry!")
    return message.ticket


def test_a_ticket_without_a_survey_says_one_comes_after_solving(console, ticket):
    assert "None yet" in sidebar(console, ticket)


def test_scheduled_sent_and_skipped_surveys_say_so(console, ticket):
    survey = Survey.objects.create(ticket=ticket, customer=ticket.customer, channel="sms",
                                   status=Survey.Status.SCHEDULED, scheduled_for=timezone.now() + timedelta(hours=1))
    assert "Goes out" in sidebar(console, ticket) and "unless the ticket reopens" in sidebar(console, ticket)
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.SENT, sent_at=timezone.now())
    assert "on sms, not answered yet" in sidebar(console, ticket)
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.SKIPPED,
                                               skip_reason="The customer opted out of messages on this channel.")
    text = sidebar(console, ticket)
    assert "Not sent:" in text and "opted out of messages on this channel" in text


def test_an_answered_survey_shows_the_rating_the_comment_and_replaced_answers(console, ticket):
    survey = Survey.objects.create(ticket=ticket, customer=ticket.customer, channel="sms",
                                   status=Survey.Status.SENT, sent_at=timezone.now())
    survey = survey_services.record_rating(survey, 4, via="reply")
    survey = survey_services.record_rating(survey, 2, via="reply")
    survey_services.add_comment(survey, "Took a week <b>really</b>")
    text = sidebar(console, ticket)
    assert 'data-rating="2"' in text and "2/5" in text and "badge rating warn" in text  # low: marked
    assert "on sms" in text and "replaces 1 earlier answer" in text
    assert "Took a week &lt;b&gt;really&lt;/b&gt;" in text  # escaped, never markup
