"""What a survey says on each channel. Everything here is text and message meta; the channel
adapters turn `meta["choices"]` into Telegram inline buttons or Messenger quick replies."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from surveys import links

SCALE = {1: "😞", 2: "🙁", 3: "😐", 4: "🙂", 5: "😀"}
CHOICE_PREFIX = "csat:"


def rating_labels() -> dict[int, str]:
    # "OK" has a context: the console's "OK" (a mailbox's health) is another word in German.
    return {1: _("Very bad"), 2: _("Bad"), 3: pgettext("satisfaction rating", "OK"), 4: _("Good"),
            5: _("Very good")}


def email(survey) -> dict:
    context = {"survey": survey, "ticket": survey.ticket,
               "choices": [(n, rating_labels()[n], links.landing_url(survey, n)) for n in range(1, 6)]}
    # The email adapter adds the ticket reference ("[#12]") to the subject.
    return {"subject": _("How did we do?"),
            "text": render_to_string("surveys/email.txt", context),
            "html": render_to_string("surveys/email.html", context)}


def question() -> str:
    return _("How would you rate the help you received? Reply with a number from 1 (very bad) "
             "to 5 (very good).")


def messaging(survey) -> dict:
    """SMS, WhatsApp, Telegram, Messenger, Instagram: a question answered by a reply; buttons
    where the channel has them."""
    meta = {"survey": survey.pk}
    if survey.channel in ("telegram", "messenger", "instagram"):
        meta["choices"] = [{"label": f"{n} {SCALE[n]}", "value": f"{CHOICE_PREFIX}{n}"} for n in range(1, 6)]
    return {"text": question(), "meta": meta}


def choice_rating(value: str) -> int | None:
    """The rating a button press carries ("csat:4"), else None."""
    if not str(value or "").startswith(CHOICE_PREFIX):
        return None
    tail = str(value)[len(CHOICE_PREFIX):]
    return int(tail) if tail in {"1", "2", "3", "4", "5"} else None
