"""Satisfaction surveys: scheduled on solve, sent on the customer's last channel (or skipped,
saying why), answered by link (never by a GET), by reply, by button; one per customer per
period; low ratings notify; answers never reopen the ticket."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from surveys import links
from surveys import services as survey_services
from surveys.models import SURVEY_CHANNELS, Survey, SurveySettings
from surveys.privacy import SurveyAnswers
from surveys.ratings import parse_rating
from tests.factories import inbound
from tests.fakes.social import fake_http, post_meta, post_telegram
from tests.fakes.twilio import fake_twilio
from tests.test_sms_inbound import SMS_URL, post_signed, sms_params
from tickets import automated, services
from tickets.models import Event, Identity, Message, Ticket

pytestmark = pytest.mark.django_db

PHONE = "+14155550123"


@pytest.fixture(autouse=True)
def no_delay(db):
    """Surveys go out as soon as the worker runs (the delay itself has its own test)."""
    SurveySettings.objects.update_or_create(pk=1, defaults={"delay_minutes": 0, "channels": list(SURVEY_CHANNELS)})


def conversation(agent, capture, *, channel="sms", sender=PHONE, text="My parcel is late", answer=True, **kwargs):
    with capture(execute=True):
        message = services.ingest(inbound(sender=sender, channel=channel, adapter=channel, text=text, **kwargs)).message
        if answer:
            services.reply(message.ticket, author=agent, text="Sorry! It ships today.")
    return Ticket.objects.get(pk=message.ticket_id)


def solve(ticket, agent, capture):
    with capture(execute=True):
        services.set_status(ticket, Ticket.Status.SOLVED, actor=agent)


def assert_rated_without_reopening(ticket, rating):
    assert Survey.objects.get(ticket=ticket).rating == rating
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.SOLVED


def events_of(kind, ticket):
    return [e.data for e in Event.objects.filter(kind=kind, ticket=ticket).order_by("seq")]


# --- SMS: sent on the customer's last channel, answered by a reply ---------------------------------

def test_sms_survey_goes_to_the_channel_of_the_last_message_and_a_reply_rates_it(
        client, agent, run_tasks, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    ticket = conversation(agent, capture, channel="email", sender="jane@example.org", answer=False)
    Identity.objects.create(customer=ticket.customer, channel="sms", address=PHONE)
    with capture(execute=True):  # the customer then texted on the same ticket
        services.ingest(inbound(sender=PHONE, channel="sms", adapter="sms", text="any news?", hint={"ticket_id": ticket.pk}))
        services.reply(ticket, author=agent, text="Shipped!", channel="sms")
    solve(ticket, agent, capture)
    with fake_twilio() as fake:
        run_tasks()
    bodies = [call.form["Body"][0] for call in fake.api_calls]
    assert bodies[0] == "Shipped!" and "from 1 (very bad) to 5 (very good)" in bodies[1]
    assert fake.api_calls[1].form["To"] == [PHONE]
    assert not mail.outbox  # not on email, where the conversation started
    survey = Survey.objects.get(ticket=ticket)
    assert (survey.status, survey.channel) == (Survey.Status.SENT, "sms")
    sent = Message.objects.get(pk=survey.message_id)
    assert sent.meta[automated.AUTOMATED] == automated.SURVEY and not automated.is_agent_reply(sent)
    assert events_of("csat.sent", ticket)[0]["channel"] == "sms"

    # The customer answers "4", then changes their mind: "5" replaces it (audited).
    with capture(execute=True):
        assert post_signed(client, SMS_URL, sms_params("SM" + "a" * 32, "4")).status_code == 200
        post_signed(client, SMS_URL, sms_params("SM" + "b" * 32, "5 stars"))
    survey.refresh_from_db()
    ticket.refresh_from_db()
    assert survey.rating == 5 and [h["rating"] for h in survey.history] == [4]
    assert ticket.status == Ticket.Status.SOLVED and ticket.waiting_since is None  # not reopened
    answers = Message.objects.filter(ticket=ticket, meta__survey_answer__isnull=False).order_by("pk")
    assert [(m.text, m.meta["survey_answer"]) for m in answers] == [("4", 4), ("5 stars", 5)]  # in the timeline
    assert [e["rating"] for e in events_of("csat.rated", ticket)] == [4, 5]

    # Anything else is an ordinary message (threaded as usual, into an active ticket), and a later
    # "3" is no answer.
    with capture(execute=True):
        post_signed(client, SMS_URL, sms_params("SM" + "c" * 32, "Actually the box was damaged"))
        post_signed(client, SMS_URL, sms_params("SM" + "d" * 32, "3"))
    survey.refresh_from_db()
    ordinary = Message.objects.get(external_id="SM" + "c" * 32)
    assert ordinary.ticket.is_active and "survey_answer" not in ordinary.meta and survey.rating == 5
    assert Message.objects.get(external_id="SM" + "d" * 32).meta.get("survey_answer") is None
    assert "csat_until" not in Identity.objects.get(channel="sms").meta


def test_a_replayed_rating_webhook_is_one_answer(client, agent, run_tasks, django_capture_on_commit_callbacks):
    ticket = conversation(agent, django_capture_on_commit_callbacks)
    solve(ticket, agent, django_capture_on_commit_callbacks)
    with fake_twilio():
        run_tasks()
    for _ in range(2):
        post_signed(client, SMS_URL, sms_params("SM" + "e" * 32, "2"))
    survey = Survey.objects.get(ticket=ticket)
    assert survey.rating == 2 and survey.history == []
    assert Message.objects.filter(external_id="SM" + "e" * 32).count() == 1


def test_the_inbound_hook_costs_no_query_for_customers_without_a_survey(agent, django_capture_on_commit_callbacks):
    conversation(agent, django_capture_on_commit_callbacks, answer=False)
    with CaptureQueriesContext(connection) as queries:
        services.ingest(inbound(sender=PHONE, channel="sms", adapter="sms", text="5"))
    assert not [q for q in queries.captured_queries if "surveys_" in q["sql"]]
    assert Message.objects.filter(text="5", meta__survey_answer__isnull=True).count() == 1


def _broken_hook(msg, identity):
    raise RuntimeError("a bug in some app's hook")


def test_a_broken_or_missing_inbound_hook_never_stops_ingest(agent, django_capture_on_commit_callbacks, caplog):
    hooks = ["surveys.inbound.missing_function", "tests.test_surveys._broken_hook", "surveys.inbound.intercept"]
    with override_settings(HELPDESK_INBOUND_HOOKS=hooks):
        message = services.ingest(inbound(sender=PHONE, channel="sms", adapter="sms", text="hello")).message
    assert Message.objects.get(pk=message.pk).ticket.is_active  # threaded as usual
    assert "cannot import 'surveys.inbound.missing_function'" in caplog.text
    assert "inbound hook" in caplog.text and "a bug in some app's hook" in caplog.text


# --- timing: the delay, and a reopen cancels ----------------------------------------------------------

def test_the_survey_waits_for_the_delay_and_a_reopen_cancels_it(agent, run_tasks, django_capture_on_commit_callbacks):
    SurveySettings.objects.filter(pk=1).update(delay_minutes=60)
    capture = django_capture_on_commit_callbacks
    ticket = conversation(agent, capture)
    solve(ticket, agent, capture)
    task = DBTaskResult.objects.get(task_path="surveys.tasks.send_survey")
    assert timedelta(minutes=59) < task.run_after - timezone.now() <= timedelta(minutes=60)
    with fake_twilio() as fake:
        run_tasks()  # only the agent's reply is due
    assert len(fake.api_calls) == 1 and Survey.objects.get().status == Survey.Status.SCHEDULED
    with capture(execute=True):  # the customer writes again before the hour is up
        services.ingest(inbound(sender=PHONE, channel="sms", adapter="sms", text="wait, one more thing"))
    survey = Survey.objects.get()
    assert survey.status == Survey.Status.CANCELLED
    assert survey_services.send(survey.pk, survey.generation) == "stale"  # the queued send does nothing
    solve(ticket, agent, capture)  # solved again: a fresh schedule
    survey.refresh_from_db()
    assert survey.status == Survey.Status.SCHEDULED and survey.generation == 2


def test_the_in_transaction_hook_entry_reacts_like_the_sink(agent, django_capture_on_commit_callbacks):
    """surveys.sinks.on_events is for HELPDESK_EVENT_HOOKS (given the new Event rows)."""
    from surveys.sinks import on_events

    ticket = conversation(agent, django_capture_on_commit_callbacks)
    with override_settings(HELPDESK_EVENT_SINKS=[], HELPDESK_EVENT_HOOKS=[]):  # neither path runs unless called
        services.set_status(ticket, Ticket.Status.SOLVED)
    assert not Survey.objects.exists()
    on_events(list(Event.objects.filter(ticket=ticket).order_by("seq")))
    assert Survey.objects.get().status == Survey.Status.SCHEDULED
    services.set_status(ticket, Ticket.Status.OPEN)
    on_events([Event.objects.filter(ticket=ticket, kind="ticket.updated").latest("seq")])
    assert Survey.objects.get().status == Survey.Status.CANCELLED


# --- rules: who gets no survey, and the timeline says why -------------------------------------------

def _opted_out(ticket):
    Identity.objects.filter(customer=ticket.customer).update(opted_out_at=timezone.now())


def _channel_off(ticket):
    SurveySettings.objects.filter(pk=1).update(channels=["email"])


def _team_off(ticket):
    from tickets.models import Team

    team = Team.objects.create(name="Billing")
    Ticket.objects.filter(pk=ticket.pk).update(team=team)
    SurveySettings.current().excluded_teams.add(team)


@pytest.mark.parametrize(("setup", "answer", "reason"), [
    (None, False, "No agent replied"),
    (_opted_out, True, "opted out"),
    (_channel_off, True, "turned off for the sms channel"),
    (_team_off, True, "turned off for the Billing team"),
])
def test_skipped_surveys_say_why_in_the_timeline(agent, run_tasks, django_capture_on_commit_callbacks,
                                                 setup, answer, reason):
    ticket = conversation(agent, django_capture_on_commit_callbacks, answer=answer)
    if setup:
        setup(ticket)
    solve(ticket, agent, django_capture_on_commit_callbacks)
    with fake_twilio() as fake:
        run_tasks()
    assert len(fake.api_calls) == (1 if answer and setup is not _opted_out else 0)  # only the agent's reply
    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == Survey.Status.SKIPPED and reason in survey.skip_reason
    (skipped,) = events_of("csat.skipped", ticket)
    assert reason in skipped["reason"]
    (line,) = Message.objects.filter(ticket=ticket, direction=Message.Direction.NOTE)  # the timeline says why
    assert line.text.startswith("Satisfaction survey not sent: ") and reason in line.text
    assert automated.is_automated(line) and line.author_id is None


def test_no_survey_to_auto_generated_mail(agent, run_tasks, django_capture_on_commit_callbacks):
    ticket = conversation(agent, django_capture_on_commit_callbacks, channel="email", sender="robot@example.org",
                          meta={"auto_submitted": "auto-replied"})
    solve(ticket, agent, django_capture_on_commit_callbacks)
    run_tasks()
    assert [m.subject for m in mail.outbox if "How did we do" in m.subject] == []
    assert "automatic mail" in Survey.objects.get().skip_reason


def test_one_survey_per_customer_per_period(agent, run_tasks, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    first = conversation(agent, capture)
    solve(first, agent, capture)
    with fake_twilio():
        run_tasks()
    Ticket.objects.filter(pk=first.pk).update(status=Ticket.Status.CLOSED)  # a follow-up opens a new ticket
    second = conversation(agent, capture, text="Another question")
    assert second.pk != first.pk
    solve(second, agent, capture)
    with fake_twilio() as fake:
        run_tasks()
    assert len(fake.api_calls) == 1  # the reply on the second ticket, no second survey
    assert "already received a survey in the last 14 days" in Survey.objects.get(ticket=second).skip_reason
    Survey.objects.filter(ticket=first).update(sent_at=timezone.now() - timedelta(days=15))
    Ticket.objects.filter(pk=second.pk).update(status=Ticket.Status.CLOSED)
    third = conversation(agent, capture, text="Third")
    solve(third, agent, capture)
    with fake_twilio():
        run_tasks()
    assert Survey.objects.get(ticket=third).status == Survey.Status.SENT


# --- email: links to a page; only a POST counts -------------------------------------------------------

def email_survey(agent, run_tasks, capture):
    ticket = conversation(agent, capture, channel="email", sender="jane@example.org")
    solve(ticket, agent, capture)
    run_tasks()
    (survey_mail,) = [m for m in mail.outbox if "How did we do" in m.subject]
    return ticket, survey_mail


def test_email_survey_links_record_only_on_post_then_take_a_comment(client, agent, run_tasks,
                                                                    django_capture_on_commit_callbacks):
    ticket, survey_mail = email_survey(agent, run_tasks, django_capture_on_commit_callbacks)
    assert survey_mail.to == ["jane@example.org"] and f"[#{ticket.pk}]" in survey_mail.subject
    urls = re.findall(r"https://helpdesk\.example\.com(/surveys/\S+/)\?rating=(\d)", survey_mail.body)
    assert [rating for _url, rating in urls] == ["1", "2", "3", "4", "5"]
    path = urls[0][0]
    assert {u for u, _r in urls} == {path}  # one signed link per survey, the rating is a parameter

    # A mail scanner opens every link: nothing is recorded.
    for _url, rating in urls:
        page = client.get(f"{path}?rating={rating}")
        assert page.status_code == 200 and b'name="rating" value="' in page.content
    survey = Survey.objects.get()
    assert survey.rating is None and not Event.objects.filter(kind="csat.rated").exists()

    page = client.post(path, {"rating": "4"})
    assert page.status_code == 200 and b'id="comment-form"' in page.content
    page = client.post(path, {"rating": "2"})  # changed their mind: replaces, audited
    survey.refresh_from_db()
    assert survey.rating == 2 and survey.history[0]["rating"] == 4 and survey.history[0]["via"] == "link"
    notes = Message.objects.filter(ticket=ticket, direction=Message.Direction.NOTE).order_by("pk")
    assert [n.text for n in notes] == ["Customer rated 4/5.", "Customer rated 2/5. (Replaces 4/5.)"]
    page = client.post(path, {"comment": "Took three weeks.", "finish": "1"})
    assert b'id="thanks"' in page.content
    survey.refresh_from_db()
    assert survey.comment == "Took three weeks." and survey.closed_at is not None

    # Reused: the link is spent, and a POST changes nothing.
    again = client.post(path, {"rating": "5"})
    assert again.status_code == 409 and b"already answered" in again.content
    survey.refresh_from_db()
    assert survey.rating == 2


def test_the_survey_speaks_the_tickets_language_when_known(client, agent, run_tasks,
                                                          django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    ticket = conversation(agent, capture, channel="email", sender="jana@example.de")
    Ticket.objects.filter(pk=ticket.pk).update(meta={"language": "de"})
    solve(ticket, agent, capture)
    run_tasks()
    (survey_mail,) = [m for m in mail.outbox if "Wie zufrieden" in m.subject]
    assert "Wie bewerten Sie die Hilfe" in survey_mail.body and "Sehr gut" in survey_mail.body
    page = client.get(links.landing_path(Survey.objects.get()), headers={"accept-language": "en"})
    assert "Wählen Sie eine Bewertung" in page.content.decode()


def test_forged_and_expired_links_get_a_clear_page_and_record_nothing(client, agent, run_tasks,
                                                                      django_capture_on_commit_callbacks):
    email_survey(agent, run_tasks, django_capture_on_commit_callbacks)
    survey = Survey.objects.get()
    token = links.token_for(survey)
    forged = client.post(f"/surveys/{token[:-2]}xx/", {"rating": "5"})
    assert forged.status_code == 404 and b"not valid" in forged.content
    other = Survey(pk=survey.pk + 1, nonce=survey.nonce)
    assert client.post(f"/surveys/{links.token_for(other)}/", {"rating": "5"}).status_code == 404
    Survey.objects.filter(pk=survey.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.post(f"/surveys/{token}/", {"rating": "5"})
    assert expired.status_code == 410 and b"expired" in expired.content
    assert Survey.objects.get().rating is None
    assert not Event.objects.filter(kind="csat.rated").exists()


def test_a_bad_rating_value_is_refused_without_recording(client, agent, run_tasks, django_capture_on_commit_callbacks):
    email_survey(agent, run_tasks, django_capture_on_commit_callbacks)
    path = links.landing_path(Survey.objects.get())
    for value in ("0", "6", "five", ""):
        assert client.post(path, {"rating": value}).status_code == 400
    assert Survey.objects.get().rating is None


# --- low ratings ------------------------------------------------------------------------------------

def test_a_low_rating_notifies_the_assignee_and_with_a_comment_can_reopen(client, agent, run_tasks,
                                                                          django_capture_on_commit_callbacks):
    SurveySettings.objects.filter(pk=1).update(reopen_on_low_rating=True)
    ticket, _mail = email_survey(agent, run_tasks, django_capture_on_commit_callbacks)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)
    path = links.landing_path(Survey.objects.get())
    client.post(path, {"rating": "1"})
    (rated,) = events_of("csat.rated", ticket)
    assert rated["low"] is True and rated["notify"] == agent.pk
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.SOLVED  # a rating alone does not reopen
    client.post(path, {"comment": "Nobody read my mail.", "finish": "1"})
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN
    assert events_of("csat.rated", ticket)[-1]["comment"] == "Nobody read my mail."


def test_a_good_rating_notifies_nobody(client, agent, run_tasks, django_capture_on_commit_callbacks):
    ticket, _mail = email_survey(agent, run_tasks, django_capture_on_commit_callbacks)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)
    client.post(links.landing_path(Survey.objects.get()), {"rating": "5"})
    (rated,) = events_of("csat.rated", ticket)
    assert "notify" not in rated and rated["low"] is False


# --- WhatsApp: the 24-hour window ---------------------------------------------------------------------

def test_outside_the_whatsapp_window_without_a_template_the_survey_is_skipped_visibly(
        agent, run_tasks, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    ticket = conversation(agent, capture, channel="whatsapp")
    with fake_twilio():
        run_tasks()  # the reply goes out inside the window
    Identity.objects.filter(channel="whatsapp").update(last_inbound_at=timezone.now() - timedelta(hours=25))
    solve(ticket, agent, capture)
    with fake_twilio() as fake:
        run_tasks()
    assert fake.api_calls == []
    (skipped,) = events_of("csat.skipped", ticket)
    assert "24-hour window" in skipped["reason"] and "template" in skipped["reason"]


def test_outside_the_whatsapp_window_the_configured_template_is_used(agent, run_tasks,
                                                                     django_capture_on_commit_callbacks):
    SurveySettings.objects.filter(pk=1).update(whatsapp_template="HXb5b62575e6e4ff6129ad7c8efe1f983e")
    capture = django_capture_on_commit_callbacks
    ticket = conversation(agent, capture, channel="whatsapp")
    with fake_twilio():
        run_tasks()
    Identity.objects.filter(channel="whatsapp").update(last_inbound_at=timezone.now() - timedelta(hours=25))
    solve(ticket, agent, capture)
    with fake_twilio() as fake:
        run_tasks()
    (call,) = fake.api_calls
    assert call.form["ContentSid"] == ["HXb5b62575e6e4ff6129ad7c8efe1f983e"] and "Body" not in call.form
    assert call.form["To"] == [f"whatsapp:{PHONE}"]
    assert Survey.objects.get().status == Survey.Status.SENT


def test_inside_the_whatsapp_window_a_free_text_survey_is_answered_by_an_emoji(
        agent, run_tasks, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    ticket = conversation(agent, capture, channel="whatsapp")
    solve(ticket, agent, capture)
    with fake_twilio() as fake:
        run_tasks()
    assert "Reply with a number" in fake.api_calls[1].form["Body"][0]
    services.ingest(inbound(sender=PHONE, channel="whatsapp", adapter="whatsapp", text="😍"))
    assert_rated_without_reopening(ticket, 5)


# --- Telegram buttons and Messenger quick replies ------------------------------------------------------

def test_telegram_survey_has_inline_buttons_and_a_press_rates(client, agent, run_tasks,
                                                             django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    ticket = conversation(agent, capture, channel="telegram", sender="1111111")
    solve(ticket, agent, capture)
    with fake_http() as api:
        api.on("POST", "/sendMessage", json={"ok": True, "result": {"message_id": 77, "chat": {"id": 1111111}}})
        run_tasks()
    survey_request = api.sent("/sendMessage")[-1].json()
    keyboard = survey_request["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in keyboard] == [f"csat:{n}" for n in range(1, 6)]
    press = {"update_id": 900, "callback_query": {
        "id": "4242", "data": "csat:3", "from": {"id": 1111111, "is_bot": False, "first_name": "Test"},
        "message": {"message_id": 77, "chat": {"id": 1111111, "type": "private"}, "reply_markup": survey_request["reply_markup"]}}}
    with fake_http() as api, capture(execute=True):
        api.on("POST", "/answerCallbackQuery", json={"ok": True, "result": True})
        assert post_telegram(client, press).status_code == 200
    assert [r.json() for r in api.sent("/answerCallbackQuery")] == [{"callback_query_id": "4242"}]  # no spinner left
    survey = Survey.objects.get()
    assert survey.rating == 3
    answer = Message.objects.get(meta__survey_answer=3)
    assert answer.text == keyboard[2]["text"] and answer.ticket_id == ticket.pk
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.SOLVED


def test_messenger_survey_has_quick_replies_and_a_tap_rates(client, agent, run_tasks,
                                                           django_capture_on_commit_callbacks):
    from tests.test_social_meta import PAGE, PSID, messaging, text_event

    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        post_meta(client, messaging(text_event("m_1", "where is my order?")))
        ticket = Message.objects.get(external_id="m_1").ticket
        services.reply(ticket, author=agent, text="On its way")
    solve(ticket, agent, capture)
    with fake_http() as api:
        api.on("POST", "/me/messages", json={"message_id": "m_out"})
        run_tasks()
    body = api.sent("/me/messages")[-1].json()
    assert body["recipient"] == {"id": PSID}
    assert [q["payload"] for q in body["message"]["quick_replies"]] == [f"csat:{n}" for n in range(1, 6)]
    with capture(execute=True):
        post_meta(client, messaging(text_event("m_2", "4 🙂", quick_reply={"payload": "csat:4"}, account=PAGE)))
    assert_rated_without_reopening(ticket, 4)


# --- live chat: the widget's card is announced by a public event ----------------------------------------

def test_a_chat_survey_is_a_public_event_with_the_rating_path(client, agent, run_tasks,
                                                              django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    ticket = conversation(agent, capture, channel="chat", sender="visitor-abc")
    solve(ticket, agent, capture)
    run_tasks()
    event = Event.objects.get(kind="csat.sent", ticket=ticket)
    assert event.public and event.data["rate_path"].startswith("/surveys/")
    response = client.post(event.data["rate_path"], {"rating": "5", "format": "json"})
    assert response.json() == {"rating": 5, "done": False}
    assert response["Access-Control-Allow-Origin"] == "*"
    assert Survey.objects.get().rating == 5


# --- parsing replies -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "rating"), [
    ("5", 5), (" 4. ", 4), ("3/5", 3), ("2 out of 5", 2), ("1 star", 1), ("⭐⭐⭐⭐", 4), ("★★", 2),
    ("great", 5), ("Sehr gut!", 5), ("schlecht", 2), ("très bien", 5), ("Excelente", 5), ("malo", 2),
    ("😡", 1), ("👍", 5), ("😐", 3),
    ("6", None), ("0", None), ("12", None), ("My order 5 never came", None), ("", None), ("ok thanks", None),
    ("⭐⭐⭐⭐⭐⭐", None),
])
def test_ratings_are_read_only_from_replies_that_are_just_a_rating(text, rating):
    assert parse_rating(text) == rating


# --- personal data and settings ---------------------------------------------------------------------------

def test_survey_answers_are_exported_and_their_words_erased(client, agent, run_tasks,
                                                            django_capture_on_commit_callbacks):
    ticket, _mail = email_survey(agent, run_tasks, django_capture_on_commit_callbacks)
    path = links.landing_path(Survey.objects.get())
    client.post(path, {"rating": "3"})
    client.post(path, {"comment": "Slow but fine", "finish": "1"})
    exported = SurveyAnswers().export(ticket.customer)
    assert json.loads(json.dumps(exported))["surveys"][0]["comment"] == "Slow but fine"
    assert SurveyAnswers().erase(ticket.customer) == 1
    survey = Survey.objects.get()
    assert (survey.comment, survey.history, survey.rating) == ("", [], 3)  # the figure stays for reports


def test_the_settings_screen_is_for_team_leads(client, agent, django_user_model):
    client.force_login(agent)
    assert b"survey-settings-link" not in client.get("/console/").content
    assert client.get("/console/surveys/settings/").status_code == 403
    lead = django_user_model.objects.create_superuser("lead", password="pw")
    client.force_login(lead)
    assert b'id="survey-settings-link"' in client.get("/console/").content  # reachable from the console
    assert client.get("/console/surveys/settings/").status_code == 200
    response = client.post("/console/surveys/settings/", {
        "enabled": "on", "delay_minutes": "30", "cooldown_days": "7", "answer_hours": "48",
        "channels": ["email", "chat"], "whatsapp_template": ""})
    assert response.status_code == 302
    config = SurveySettings.current()
    assert (config.delay_minutes, config.cooldown_days, config.channels) == (30, 7, ["email", "chat"])
    bad = client.post("/console/surveys/settings/", {"delay_minutes": "-1", "cooldown_days": "7", "answer_hours": "48"})
    assert bad.status_code == 200 and SurveySettings.current().delay_minutes == 30
