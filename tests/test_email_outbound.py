"""Outbound mail: no header injection from any field, attachments, error classification, and the
Django 6.1 MAILERS configuration (file backend by default)."""

import smtplib

import pytest
from django.core import mail as django_mail

from channels_email import outbound
from channels_email.pipe import ingest_raw
from tests.email_helpers import mail
from tickets import services
from tickets.channels import InboundAttachment, PermanentDeliveryError, TransientDeliveryError
from tickets.models import Message


@pytest.fixture
def ticket():
    _p, items = ingest_raw(mail(subject="Order\r\nBcc: victim@example.net"))
    return items[0].message.ticket


@pytest.mark.django_db
def test_no_header_injection_from_subject_or_agent_name(ticket, agent, run_tasks, django_capture_on_commit_callbacks):
    agent.first_name, agent.last_name = "Eve\r\nBcc: spy@evil.example", ""
    agent.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, author=agent, text="Hi", subject="x\nBcc: spy@evil.example", client_id="i1",
                       attachments=[InboundAttachment("notes.txt", "text/plain", b"attached")])
    run_tasks()
    sent = [m for m in django_mail.outbox if "Auto-Submitted" not in m.extra_headers][-1]
    raw = sent.message().as_bytes()
    assert b"\nBcc:" not in raw and sent.bcc == []
    assert sent.recipients() == ["jane@example.org"]
    assert sent.attachments[0].filename == "notes.txt" and sent.attachments[0].content == "attached"  # text/* is decoded
    assert Message.objects.get(direction="outbound").status == "sent"


@pytest.mark.django_db
@pytest.mark.parametrize("error, kind, says", [
    (smtplib.SMTPRecipientsRefused({"jane@example.org": (550, b"no such user")}), PermanentDeliveryError, "no such user"),
    (smtplib.SMTPResponseException(554, b"rejected"), PermanentDeliveryError, "rejected"),
    (smtplib.SMTPResponseException(451, b"try later"), TransientDeliveryError, "try later"),
    (ConnectionRefusedError("connection refused"), TransientDeliveryError, "connection refused"),
])
def test_send_errors_are_classified(ticket, agent, monkeypatch, error, kind, says):
    message = services.reply(ticket, author=agent, text="Hi", client_id="c1")
    email = outbound.build_reply(message)

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(type(email), "send", fail)
    with pytest.raises(kind, match=says):
        outbound.send(email)


def _production_settings():
    """helpdesk/settings.py executed afresh under another name (the live module is untouched)."""
    import importlib.util

    import helpdesk.settings

    spec = importlib.util.spec_from_file_location("settings_probe", helpdesk.settings.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mailers_are_configured_from_the_environment(monkeypatch):
    monkeypatch.delenv("HELPDESK_EMAIL_BACKEND", raising=False)
    assert _production_settings().MAILERS["default"]["BACKEND"].endswith("filebased.EmailBackend")
    monkeypatch.setenv("HELPDESK_EMAIL_BACKEND", "mailgun")
    monkeypatch.setenv("ANYMAIL_MAILGUN_API_KEY", "key-123")
    probe = _production_settings()
    assert probe.MAILERS["default"]["BACKEND"] == "anymail.backends.mailgun.EmailBackend"
    assert probe.ANYMAIL["MAILGUN_API_KEY"] == "key-123"
    monkeypatch.setenv("HELPDESK_EMAIL_BACKEND", "smtp")
    monkeypatch.setenv("HELPDESK_SMTP_HOST", "mail.example.com")
    assert _production_settings().MAILERS["default"]["OPTIONS"]["host"] == "mail.example.com"
    monkeypatch.setenv("HELPDESK_EMAIL_INBOUND_ESPS", "postmark")
    assert _production_settings().HELPDESK_CHANNELS["email_postmark"]["esp"] == "postmark"


def test_an_esp_adapter_is_refused_at_start_up_when_anymail_cannot_serve_it(monkeypatch):
    """A misconfiguration is a clear error when the adapter is built, not a 500 per webhook."""
    import importlib.util

    from django.core.exceptions import ImproperlyConfigured

    from channels_email.adapter import EmailAdapter

    with pytest.raises(ImproperlyConfigured, match="no 'pigeonmail' webhooks"):
        EmailAdapter("email_pigeonmail", esp="pigeonmail")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real_find_spec(name, *a))
    with pytest.raises(ImproperlyConfigured, match=r"boto3: pip install -e '\.\[ses\]'"):
        EmailAdapter("email_amazon_ses", esp="amazon_ses")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "boto3" else real_find_spec(name, *a))
    assert EmailAdapter("email_amazon_ses", esp="amazon_ses").esp == "amazon_ses"
