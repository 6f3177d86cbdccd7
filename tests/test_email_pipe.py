"""The MTA pipe command, the quarantine (circuit breaker, replay, discard) and mbox import."""

import mailbox

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from channels_email import pipe
from channels_email.pipe import ingest_raw
from tests.email_helpers import corpus, mail
from tickets import services
from tickets.models import InboundPayload, Message, Ticket


def run(*args, stdin=None, monkeypatch=None):
    import io
    import sys

    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    try:
        call_command("ingest_email", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_pipe_from_a_file_prints_the_ticket_reference(tmp_path):
    path = tmp_path / "m.eml"
    path.write_bytes(mail())
    code, out, _err = run(str(path))
    ticket = Ticket.objects.get()
    assert code == 0 and out.strip() == f"#{ticket.pk}"
    payload = InboundPayload.objects.get()
    assert payload.adapter == "email_pipe" and payload.state == "processed" and bytes(payload.body) == mail()


@pytest.mark.django_db
def test_pipe_from_stdin_with_an_mbox_envelope_line(monkeypatch):
    code, out, _err = run("-", stdin=b"From jane@example.org Sat Jul 25 10:19:58 2026\n" + mail(), monkeypatch=monkeypatch)
    assert code == 0 and out.startswith("#")
    assert Message.objects.get().text == "Where is order 4521?"


@pytest.mark.django_db
def test_pipe_exit_65_only_for_input_that_is_not_mail(monkeypatch, tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"\x89PNG\r\n\x1a\nnot a mail at all")
    code, _out, err = run(str(path))
    assert code == 65 and "not an email" in err
    assert InboundPayload.objects.count() == 0
    path.write_bytes(corpus("malformed-no-from"))  # broken, but mail: quarantined, exit 0
    code, out, _err = run(str(path))
    assert code == 0 and out.startswith("quarantined")


@pytest.mark.django_db
def test_pipe_exit_75_when_the_database_is_unavailable(monkeypatch, tmp_path):
    def down(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(pipe.services, "receive_request", down)
    path = tmp_path / "m.eml"
    path.write_bytes(mail())
    code, _out, err = run(str(path))
    assert code == 75 and "try again" in err


@pytest.mark.django_db
def test_the_circuit_breaker_quarantines_a_flooding_sender_and_replay_lets_it_in(settings):
    settings.HELPDESK_EMAIL_SENDER_HOURLY_LIMIT = 3
    for n in range(3):
        _p, items = ingest_raw(mail(msgid=f"<flood-{n}@example.org>", subject=f"loop {n}"))
        assert items
    payload, items = ingest_raw(mail(msgid="<flood-3@example.org>"))
    payload.refresh_from_db()
    assert items == [] and payload.state == "quarantined" and "last hour" in payload.error
    assert Message.objects.count() == 3
    settings.HELPDESK_EMAIL_SENDER_HOURLY_LIMIT = 20  # the admin lifts the limit and replays
    services.process_request(payload)
    payload.refresh_from_db()
    assert payload.state == "processed" and Message.objects.count() == 4


@pytest.mark.django_db
def test_an_admin_lets_a_quarantined_mail_through_without_lifting_the_limit(settings, admin_client):
    settings.HELPDESK_EMAIL_SENDER_HOURLY_LIMIT = 1
    ingest_raw(mail(msgid="<limit-0@example.org>"))
    flood, _ = ingest_raw(mail(msgid="<limit-1@example.org>", subject="urgent", headers="Cc: boss@example.org\r\n"))
    own, _ = ingest_raw(mail(sender="support@helpdesk.example.com", msgid="<own-1@example.org>"))
    call_command("replay_inbound", str(flood.pk))  # a plain replay meets the same limit
    flood.refresh_from_db()
    assert flood.state == "quarantined" and Message.objects.count() == 1
    with pytest.raises(CommandError, match="--let-through needs the ids"):
        call_command("replay_inbound", "--let-through")  # never wholesale: the admin names them

    response = admin_client.post("/admin/tickets/inboundpayload/",
                                 {"action": "let_through", "_selected_action": [flood.pk]}, follow=True)
    assert response.status_code == 200 and b"1 let through" in response.content
    flood.refresh_from_db()
    assert flood.state == "processed"
    message = Message.objects.get(external_id="<limit-1@example.org>")
    assert message.subject == "urgent"
    # The channel's follow-up runs on a let-through payload too: the Cc may reply into it.
    assert ["email", "boss@example.org"] in message.ticket.meta["participants"]

    call_command("replay_inbound", "--let-through", str(own.pk))  # the loop rule is a soft check too
    own.refresh_from_db()
    assert own.state == "processed"


@pytest.mark.django_db
def test_quarantine_is_replayed_and_discarded_from_the_admin(admin_client):
    payload, _ = ingest_raw(corpus("malformed-no-from"))
    response = admin_client.post("/admin/tickets/inboundpayload/",
                                 {"action": "discard", "_selected_action": [payload.pk]}, follow=True)
    assert response.status_code == 200
    payload.refresh_from_db()
    assert payload.state == "discarded"


@pytest.mark.django_db
def test_replaying_a_stored_mail_twice_stores_one_message():
    payload, _ = ingest_raw(mail())
    services.process_request(payload)
    _again, _ = ingest_raw(mail())
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_import_mbox_is_idempotent_and_acknowledges_nobody(tmp_path, run_tasks):
    from django.core import mail as django_mail

    path = tmp_path / "archive.mbox"
    box = mailbox.mbox(path)
    for data in (mail(msgid="<m1@example.org>"), mail(msgid="<m2@example.org>", subject="two"),
                 corpus("loop-from-our-address"), corpus("malformed-no-from"), corpus("client-gmail")):
        box.add(data)
    box.flush()
    import io

    out = io.StringIO()
    call_command("import_mbox", str(path), "--no-progress", stdout=out)
    assert "3 imported" in out.getvalue() and "1 ours" in out.getvalue() and "1 quarantined" in out.getvalue()
    assert Message.objects.count() == 3
    out = io.StringIO()
    call_command("import_mbox", str(path), "--no-progress", stdout=out)
    assert "0 imported" in out.getvalue() and "4 already" in out.getvalue()
    assert Message.objects.count() == 3
    run_tasks()
    assert django_mail.outbox == []


@pytest.mark.django_db
def test_acknowledgements_are_listed_in_the_admin(admin_client):
    ingest_raw(mail(msgid="<admin-ack@example.org>"))
    response = admin_client.get("/admin/channels_email/acknowledgement/")
    assert response.status_code == 200 and b"jane@example.org" in response.content
    assert admin_client.get("/admin/channels_email/sentmail/").status_code == 200
