"""Every survey write: schedule on solve, cancel on reopen, send (or skip, saying why), record
an answer. Ticket-model writes (the survey message, a reopen) go through tickets.services."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from surveys import compose, links
from surveys.models import Survey, SurveySettings, new_nonce
from tickets import events, services
from tickets.automated import SURVEY, is_agent_reply
from tickets.channels import get_adapter
from tickets.models import Customer, Message, Ticket
from tickets.queueing import enqueue_on_commit
from tickets.services.outbound import ReplyRefused, route_reply

log = logging.getLogger(__name__)

# identity.meta key: the time until which a reply on this identity may be a survey answer. The
# inbound hook reads it from the identity row ingest loads anyway, so messages from everyone
# else cost no query.
PENDING_FLAG = "csat_until"
# Channels where the customer answers by replying (the others answer by link or widget card).
REPLY_CHANNELS = {"sms", "whatsapp", "telegram", "messenger", "instagram"}
S = Survey.Status


def schedule(ticket_id: int) -> Survey | None:
    """The ticket was solved: send a survey after the configured delay (a re-solve reschedules
    the ticket's one survey unless it already went out)."""
    config = SurveySettings.current()
    with transaction.atomic():
        ticket = Ticket.objects.filter(pk=ticket_id).first()
        if ticket is None:
            return None
        survey, _created = Survey.objects.select_for_update().get_or_create(
            ticket=ticket, defaults={"customer_id": ticket.customer_id})
        if not _created and survey.status != S.CANCELLED:
            return survey  # one survey per ticket: scheduled, sent, answered or skipped already
        survey.status, survey.generation = S.SCHEDULED, survey.generation + 1
        survey.scheduled_for = timezone.now() + timedelta(minutes=config.delay_minutes)
        survey.save(update_fields=["status", "generation", "scheduled_for"])
        _enqueue_send(survey)
    return survey


def _enqueue_send(survey: Survey) -> None:
    from surveys.tasks import send_survey

    task = send_survey.using(run_after=survey.scheduled_for)
    enqueue_on_commit(task, survey.pk, survey.generation)


def cancel(ticket_id: int) -> None:
    """The ticket reopened before its survey went out."""
    Survey.objects.filter(ticket_id=ticket_id, status=S.SCHEDULED).update(status=S.CANCELLED)


def send(survey_id: int, generation: int) -> str:
    """The delayed send: check every rule again now (things changed during the delay), then
    send on the channel of the customer's last message on the ticket, or skip saying why."""
    config = SurveySettings.current()
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("ticket").filter(pk=survey_id).first()
        if survey is None or survey.status != S.SCHEDULED or survey.generation != generation:
            return "stale"
        ticket = survey.ticket
        # One survey per customer per period: two of their tickets due at once queue here, so
        # the second one sees the first one's sent_at.
        list(Customer.objects.select_for_update().filter(pk=survey.customer_id).values_list("pk", flat=True))
        if ticket.status not in (Ticket.Status.SOLVED, Ticket.Status.CLOSED):
            survey.status = S.CANCELLED
            survey.save(update_fields=["status"])
            return "cancelled"
        last = (Message.objects.filter(ticket=ticket, direction=Message.Direction.INBOUND)
                .select_related("identity").order_by("-created_at", "-pk").first())
        if last is not None and last.identity is not None:
            survey.identity, survey.channel = last.identity, last.identity.channel
        reason, plan = _refusal(survey, ticket, last, config)
        if reason:
            return _skip(survey, reason)
        survey.language = ticket.meta.get("language") or settings.LANGUAGE_CODE
        survey.nonce = new_nonce()  # links of an earlier send stop working
        survey.sent_at = timezone.now()
        survey.expires_at = survey.sent_at + timedelta(hours=config.answer_hours)
        survey.status = S.SENT
        with translation.override(survey.language):
            message = _deliver(survey, ticket, plan)
        survey.message = message
        survey.save()
        data = _data(survey)
        if survey.channel == "chat":
            data["rate_path"] = links.landing_path(survey)  # the widget shows its rating card
            _note(ticket, _("Satisfaction survey shown in the chat widget."))
        events.record("csat.sent", ticket=ticket, public=survey.channel == "chat", data=data)
    return "sent"


def _refusal(survey: Survey, ticket: Ticket, last, config) -> tuple[str, dict]:
    """Why this survey must not go out ("" when it may), and how to send it."""
    if not config.enabled:
        return _("Satisfaction surveys are turned off."), {}
    if ticket.team_id and config.excluded_teams.filter(pk=ticket.team_id).exists():
        return _("Surveys are turned off for the %(team)s team.") % {"team": ticket.team}, {}
    replies = Message.objects.filter(ticket=ticket, direction=Message.Direction.OUTBOUND,
                                     author__isnull=False).exclude(status=Message.Status.FAILED)
    if not any(is_agent_reply(m) for m in replies.only("direction", "author_id", "meta")):
        return _("No agent replied to the customer on this ticket."), {}
    if last is None or last.identity is None:
        return _("The customer never wrote on this ticket."), {}
    identity = last.identity
    if survey.channel not in (config.channels or []):
        return _("Surveys are turned off for the %(channel)s channel.") % {"channel": survey.channel}, {}
    if last.meta.get("auto_submitted"):
        return _("The customer's last message was automatic mail (%(why)s).") % {
            "why": last.meta["auto_submitted"]}, {}
    if identity.opted_out_at is not None or identity.meta.get("no_surveys"):
        return _("%(address)s opted out of messages.") % {"address": identity.address}, {}
    since = timezone.now() - timedelta(days=config.cooldown_days)
    if Survey.objects.filter(customer_id=ticket.customer_id, sent_at__gte=since).exclude(pk=survey.pk).exists():
        return _("This customer already received a survey in the last %(days)s days.") % {
            "days": config.cooldown_days}, {}
    if survey.channel == "chat":
        return "", {"chat": True}
    try:
        identity, adapter_key = route_reply(ticket, None)
    except ReplyRefused as refused:
        return refused.reason, {}
    plan = {"identity": identity, "adapter_key": adapter_key}
    if not get_adapter(adapter_key).window_open(identity):
        if survey.channel == "whatsapp" and config.whatsapp_template:
            plan["template"] = {"id": config.whatsapp_template, "variables": {}}
        elif survey.channel == "whatsapp":
            return _("Outside WhatsApp's 24-hour window and no approved survey template is configured."), {}
        else:
            return _("Outside the %(channel)s messaging window.") % {"channel": survey.channel}, {}
    return "", plan


def _deliver(survey: Survey, ticket: Ticket, plan: dict) -> Message | None:
    if plan.get("chat"):
        return None  # the widget's rating card: the csat.sent event carries what it needs
    if survey.channel == "email":
        content = compose.email(survey)
        return services.send_automated(ticket, identity=plan["identity"], adapter_key=plan["adapter_key"],
                                       reason=SURVEY, meta={"survey": survey.pk}, **content)
    content = compose.messaging(survey)
    if plan.get("template"):
        content["meta"]["template"] = plan["template"]
    message = services.send_automated(ticket, identity=plan["identity"], adapter_key=plan["adapter_key"],
                                      reason=SURVEY, text=content["text"], meta=content["meta"])
    if survey.channel in REPLY_CHANNELS:
        services.set_identity_flag(plan["identity"].pk, PENDING_FLAG, survey.expires_at.isoformat())
    return message


def _skip(survey: Survey, reason: str) -> str:
    survey.status, survey.skip_reason = S.SKIPPED, reason
    survey.save()
    log.info("survey for ticket %s skipped: %s", survey.ticket_id, reason)
    _note(survey.ticket, _("Satisfaction survey not sent: %(reason)s") % {"reason": reason})
    events.record("csat.skipped", ticket=survey.ticket, data={**_data(survey), "reason": reason})
    return "skipped"


def record_rating(survey: Survey, rating: int, *, via: str) -> Survey:
    """The customer's rating. A second one replaces the first, which stays in the history."""
    if rating not in range(1, 6):
        raise ValueError(f"a rating is 1 to 5, not {rating!r}")
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("ticket").get(pk=survey.pk)
        now = timezone.now()
        if survey.rating is not None:
            survey.history.append({"rating": survey.rating, "comment": survey.comment,
                                   "at": survey.answered_at.isoformat(), "replaced_at": now.isoformat(),
                                   "via": via})
        survey.rating, survey.answered_at, survey.status = rating, now, S.ANSWERED
        # Reports credit the rating to the agent responsible when it was given (the solver,
        # still the assignee while the ticket is solved), not to whoever is assigned later.
        survey.agent_id = survey.ticket.assignee_id
        survey.save(update_fields=["rating", "answered_at", "status", "history", "agent"])
        _record_rated(survey, via)
    return survey


def add_comment(survey: Survey, comment: str) -> Survey:
    """The optional comment after a rating; it finishes the survey (its link is used up). With
    the option on, a low rating with a comment reopens the ticket for the team."""
    comment = (comment or "").strip()[:5000]
    config = SurveySettings.current()
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("ticket").get(pk=survey.pk)
        if survey.rating is None:
            raise ValueError("a comment needs a rating first")
        survey.comment, survey.closed_at = comment, timezone.now()
        survey.save(update_fields=["comment", "closed_at"])
        if comment:
            _record_rated(survey, "comment")
            if survey.is_low and config.reopen_on_low_rating and survey.ticket.status == Ticket.Status.SOLVED:
                services.set_status(survey.ticket, Ticket.Status.OPEN)
    return survey


def _note(ticket: Ticket, text: str) -> None:
    """The timeline line agents read (the event log is pruned; this stays with the ticket)."""
    services.automated_note(ticket, reason=SURVEY, author_name=_("Satisfaction survey"), text=text)


def _record_rated(survey: Survey, via: str) -> None:
    if via not in REPLY_CHANNELS:  # a reply is in the timeline already, as the answer itself
        text = _("Customer rated %(rating)s/5.") % {"rating": survey.rating}
        if via != "comment" and survey.history:
            text += " " + _("(Replaces %(previous)s/5.)") % {"previous": survey.history[-1]["rating"]}
        if via == "comment":
            text += "\n" + survey.comment
        _note(survey.ticket, text)
    data = {**_data(survey), "via": via, "replaced": len(survey.history)}
    if survey.is_low and survey.ticket.assignee_id:
        data["notify"] = survey.ticket.assignee_id  # the console notifies this agent
    events.record("csat.rated", ticket=survey.ticket, data=data)


def _data(survey: Survey) -> dict:
    return {"survey": survey.pk, "ticket": survey.ticket_id, "status": survey.status, "channel": survey.channel,
            "rating": survey.rating, "comment": survey.comment, "low": survey.is_low,
            "sent_at": survey.sent_at.isoformat() if survey.sent_at else None}


def open_survey_for_reply(identity) -> Survey | None:
    """The survey a reply on this identity may answer (sent or answered, not expired)."""
    return (Survey.objects.select_related("ticket")
            .filter(identity=identity, status__in=[S.SENT, S.ANSWERED], expires_at__gt=timezone.now())
            .order_by("-sent_at").first())
