"""Bridging our stored RawRequest to anymail's own webhook views, so validation (basic auth
WEBHOOK_SECRET + the ESP's signature) and parsing are anymail's, not a copy of them.

The payload is kept as bytes; on replay it is turned back into a Django request here."""

from __future__ import annotations

import io
import json
import time
import warnings
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.utils.module_loading import import_string

_V = "anymail.webhooks."
# esp -> (inbound view, tracking view); Mandrill has one combined endpoint for both.
VIEWS = {
    "amazon_ses": (_V + "amazon_ses.AmazonSESInboundWebhookView", _V + "amazon_ses.AmazonSESTrackingWebhookView"),
    "brevo": (_V + "brevo.BrevoInboundWebhookView", _V + "brevo.BrevoTrackingWebhookView"),
    "mailersend": (_V + "mailersend.MailerSendInboundWebhookView", _V + "mailersend.MailerSendTrackingWebhookView"),
    "mailgun": (_V + "mailgun.MailgunInboundWebhookView", _V + "mailgun.MailgunTrackingWebhookView"),
    "mailjet": (_V + "mailjet.MailjetInboundWebhookView", _V + "mailjet.MailjetTrackingWebhookView"),
    "mailtrap": (_V + "mailtrap.MailtrapInboundWebhookView", _V + "mailtrap.MailtrapTrackingWebhookView"),
    "mandrill": (_V + "mandrill.MandrillCombinedWebhookView", _V + "mandrill.MandrillCombinedWebhookView"),
    "postal": (_V + "postal.PostalInboundWebhookView", _V + "postal.PostalTrackingWebhookView"),
    "postmark": (_V + "postmark.PostmarkInboundWebhookView", _V + "postmark.PostmarkTrackingWebhookView"),
    "resend": (_V + "resend.ResendInboundWebhookView", _V + "resend.ResendTrackingWebhookView"),
    "sendgrid": (_V + "sendgrid.SendGridInboundWebhookView", _V + "sendgrid.SendGridTrackingWebhookView"),
    "sparkpost": (_V + "sparkpost.SparkPostInboundWebhookView", _V + "sparkpost.SparkPostTrackingWebhookView"),
}
TRACKING_ONLY = {"unisender_go": _V + "unisender_go.UnisenderGoTrackingWebhookView"}


def view_path(esp: str, tracking: bool) -> str:
    if esp in TRACKING_ONLY:
        return TRACKING_ONLY[esp]
    inbound, track = VIEWS[esp]
    return track if tracking else inbound


@cache
def _view_class(path: str):
    return import_string(path)


def anymail_view(esp: str, tracking: bool):
    """A fresh anymail view instance (it reads its settings in __init__)."""
    with warnings.catch_warnings():
        # We refuse webhooks without WEBHOOK_SECRET ourselves (adapter.verify), with a clear
        # error instead of anymail's warning.
        warnings.simplefilter("ignore")
        return _view_class(view_path(esp, tracking))()


def django_request(raw) -> WSGIRequest:
    """Rebuild the HttpRequest anymail expects from the stored method, path, headers and body."""
    path, _, query = raw.path.partition("?")
    public = urlsplit(getattr(settings, "HELPDESK_PUBLIC_URL", "http://127.0.0.1:8000"))
    environ = {
        "REQUEST_METHOD": raw.method if raw.method in ("POST", "HEAD") else "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": query or raw.query,
        "CONTENT_TYPE": raw.header("Content-Type", raw.content_type),
        "CONTENT_LENGTH": str(len(raw.body)),
        "wsgi.input": io.BytesIO(raw.body),
        "wsgi.url_scheme": public.scheme or "http",
        "SERVER_NAME": public.hostname or "localhost",
        "SERVER_PORT": str(public.port or (443 if public.scheme == "https" else 80)),
    }
    for name, value in raw.headers.items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            continue
        environ[f"HTTP_{key}"] = value
    return WSGIRequest(environ)


def signed_at(esp: str, request) -> float | None:
    """When the ESP signed this request (Unix time), for ESPs whose signature covers a
    timestamp: Mailgun signs timestamp+token (both webhook styles). Resend's Svix signatures
    are checked for age by the svix library itself. None when the ESP signs no time."""
    if esp != "mailgun":
        return None
    try:
        if request.content_type == "application/json":
            value = json.loads(request.body)["signature"]["timestamp"]
        else:
            value = request.POST["timestamp"]  # the last value, as anymail reads it
        return float(value)
    except (KeyError, TypeError, ValueError):
        return float("nan")  # signed but unreadable: refused as stale


def check_fresh(esp: str, request) -> str:
    """Empty when the signed time is recent, else why not. A valid signature over a timestamp
    weeks old is a captured request replayed (anymail does not check it for inbound mail).
    The window covers the ESP's retries (Mailgun retries for about 8 hours)."""
    when = signed_at(esp, request)
    if when is None:
        return ""
    now, max_age = time.time(), float(getattr(settings, "HELPDESK_WEBHOOK_MAX_AGE_SECONDS", 9 * 3600))
    if not (now - max_age <= when <= now + 300):  # NaN fails both comparisons
        return f"{esp} webhook signed at {when!r}, outside the accepted window of {max_age:.0f} s"
    return ""
