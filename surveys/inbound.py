"""The inbound hook (HELPDESK_INBOUND_HOOKS): a reply that is a rating answers the open survey
instead of reopening the ticket. It is filed on the surveyed ticket as a survey answer, visible
in the timeline; anything else is an ordinary message (and ends reply-answering)."""

from __future__ import annotations

from django.db import transaction

from surveys import compose, services
from surveys.ratings import parse_rating
from tickets import services as ticket_services

BUTTON_KEYS = ("callback_data", "quick_reply")  # Telegram inline buttons, Messenger quick replies


def intercept(msg, identity):
    button = next((msg.meta.get(k) for k in BUTTON_KEYS if msg.meta.get(k)), None)
    until = identity.meta.get(services.PENDING_FLAG)
    if button is None and until is None:
        return None  # nearly every message: no query
    rating = compose.choice_rating(button) if button is not None else None
    if rating is None and until is not None:
        rating = parse_rating(msg.text)
    survey = services.open_survey_for_reply(identity) if rating is not None else None
    if survey is None:
        if until is not None:
            # Not a rating (the customer moved on: a later "5" is no longer an answer), or the
            # survey expired: drop the flag so their messages cost nothing again.
            ticket_services.set_identity_flag(identity.pk, services.PENDING_FLAG, None)
        return None
    with transaction.atomic():  # both or neither (ingest carries on if this raises)
        services.record_rating(survey, rating, via=msg.channel)
        return ticket_services.file_aside(msg, identity, survey.ticket, meta={"survey_answer": rating})
