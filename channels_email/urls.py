"""anymail's standard webhook URLs, served by the helpdesk's one webhook view (verify -> keep the
raw payload -> parse -> ingest -> acknowledge) for every ESP configured in HELPDESK_CHANNELS."""

from django.urls import path, re_path

from channels_email.views import EmailWebhookView
from tickets.channels import channel_config


def _esp_adapters():
    for key, spec in channel_config().items():
        if isinstance(spec, dict) and spec.get("BACKEND", "").startswith("channels_email.") and spec.get("esp"):
            yield key, spec["esp"]


def _patterns():
    patterns = []
    for key, esp in _esp_adapters():
        view = EmailWebhookView.as_view(adapter=key)
        if esp == "mandrill":  # anymail's combined endpoint (and its legacy tracking URL)
            patterns += [path("anymail/mandrill/", view, name="email_mandrill_webhook"),
                         path("anymail/mandrill/tracking/", view)]
            continue
        if esp == "mailgun":  # ".../inbound_mime/" asks Mailgun for the raw MIME message
            patterns.append(re_path(r"^anymail/mailgun/inbound(_mime)?/$", view, name="email_mailgun_inbound"))
        elif esp != "unisender_go":
            patterns.append(path(f"anymail/{esp}/inbound/", view, name=f"email_{esp}_inbound"))
        patterns.append(path(f"anymail/{esp}/tracking/", view, name=f"email_{esp}_tracking"))
    return patterns


urlpatterns = _patterns()
