"""Twilio error codes: what they mean to an agent, and whether retrying can help.

Codes from https://www.twilio.com/docs/api/errors. The reasons are written for the agent who
sees the failed reply, not for a developer."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.channels import PermanentDeliveryError, TransientDeliveryError

# Refused when sending (API errors) and reported later (status callback ErrorCode).
MEANINGS = {
    "20003": gettext_lazy("Twilio rejected the account credentials (check TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)."),
    "20429": gettext_lazy("Twilio is rate limiting this account; the message will be retried."),
    "21211": gettext_lazy("The customer's phone number is not valid."),
    "21408": gettext_lazy("Sending to this country is not enabled on the Twilio account."),
    "21606": gettext_lazy("The sending number cannot send to this destination."),
    "21610": gettext_lazy("The customer replied STOP to this number: they must text START before they can be messaged again."),
    "21612": gettext_lazy("Twilio cannot route a message from this sender to that number."),
    "21617": gettext_lazy("The message is longer than Twilio's limit of 1600 characters: shorten it."),
    "21614": gettext_lazy("The customer's number is not a mobile number and cannot receive SMS."),
    "30003": gettext_lazy("The customer's phone is unreachable (switched off or out of coverage)."),
    "30004": gettext_lazy("The message was blocked (the customer or their carrier blocks this sender)."),
    "30005": gettext_lazy("The customer's number is unknown to their carrier (it may no longer exist)."),
    "30006": gettext_lazy("The number is a landline or its carrier cannot receive SMS."),
    "30007": gettext_lazy("The carrier filtered the message as spam."),
    "30008": gettext_lazy("The carrier reported an unknown delivery error."),
    "30034": gettext_lazy("The sending number is not registered for US A2P 10DLC messaging."),
    "63003": gettext_lazy("The customer's number is not on WhatsApp."),
    "63016": gettext_lazy("More than 24 hours have passed since the customer last wrote on WhatsApp: "
                          "send an approved template instead."),
    "63024": gettext_lazy("WhatsApp rejected the recipient as invalid."),
    "63032": gettext_lazy("WhatsApp did not deliver this marketing template to the customer."),
}

# Errors no retry can fix: fail the reply at once so the agent can choose another way.
OPTED_OUT = {"21610"}  # the recipient replied STOP: Twilio blocks the number until START
PERMANENT = {"20003", "21211", "21408", "21606", "21610", "21612", "21614", "21617", "63003", "63016", "63024"}
TRANSIENT = {"20429", "20500", "20503", "30001"}


def meaning(code, fallback: str = "") -> str:
    """An agent-facing explanation of a Twilio error code."""
    code = str(code or "")
    if code in MEANINGS:
        return str(MEANINGS[code])
    if fallback:
        return _("Twilio error %(code)s: %(message)s") % {"code": code, "message": fallback}
    if code:
        return _("Twilio error %(code)s (https://www.twilio.com/docs/api/errors/%(code)s).") % {"code": code}
    return _("Twilio reported the message as not delivered.")


def classify(status: int, code, message: str, retry_after: float | None = None) -> Exception:
    """The delivery error for a failed Twilio API call (HTTP status + Twilio code)."""
    code = str(code or "")
    reason = meaning(code, message) if code and code != str(status) else (message or meaning(code))
    if code in PERMANENT:
        return PermanentDeliveryError(reason, code=code, opted_out=code in OPTED_OUT)
    if code in TRANSIENT or status == 429 or status >= 500:
        return TransientDeliveryError(reason, code=code or str(status), retry_after=retry_after)
    return PermanentDeliveryError(reason, code=code or str(status))


def parse_retry_after(value) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None
