"""Survey links: signed, single-ticket, expiring. The signature proves we minted the link; the
survey row decides whether it still counts (expiry, a newer send, a finished answer), so a
setting changed later applies to links already out."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.models import Survey

SALT = "surveys.link"


class LinkRefused(Exception):
    """A link that records nothing; `reason` is shown on the page as is."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason, self.status = reason, status


def token_for(survey: Survey) -> str:
    return signing.dumps([survey.pk, survey.nonce], salt=SALT, compress=False)


def landing_path(survey: Survey) -> str:
    return reverse("surveys:answer", args=[token_for(survey)])


def landing_url(survey: Survey, rating: int | None = None) -> str:
    url = settings.HELPDESK_PUBLIC_URL + landing_path(survey)
    return f"{url}?rating={rating}" if rating else url


def open_survey(token: str) -> Survey:
    """The survey a link is for, if it may still be answered; else LinkRefused."""
    try:
        survey_id, nonce = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise LinkRefused(_("This survey link is not valid. Please use the link from your message."),
                          status=404) from None
    survey = Survey.objects.select_related("ticket").filter(pk=survey_id).first()
    if survey is None or survey.nonce != nonce or survey.status not in (Survey.Status.SENT, Survey.Status.ANSWERED):
        raise LinkRefused(_("This survey link is no longer valid."), status=404)
    if survey.closed_at is not None:
        raise LinkRefused(_("You already answered this survey. Thank you!"), status=409)
    if survey.expires_at is not None and timezone.now() >= survey.expires_at:
        raise LinkRefused(_("This survey has expired."), status=410)
    return survey
