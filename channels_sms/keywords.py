"""STOP / START / HELP: the customer's word on whether we may message them.

Twilio's default opt-out handling (Advanced Opt-Out off) matches a whole message, trimmed and
case-insensitive, against these lists and then blocks the number itself (error 21610). We mirror
it so the console knows *before* an agent types a reply that cannot be delivered.

WhatsApp gets a narrower list on purpose: Twilio does not block WhatsApp senders, and there
"End", "Cancel" or "Yes" are far more often an answer to the agent's question than a
subscription command, so only unambiguous words opt out or back in.
"""

from __future__ import annotations

OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
OPT_IN = {"START", "YES", "UNSTOP"}
HELP = {"HELP", "INFO"}

WHATSAPP_OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE"}
WHATSAPP_OPT_IN = {"START", "UNSTOP"}


def keyword_signal(channel: str, body: str) -> str:
    """"opt_out", "opt_in" or "" for an inbound text (HELP changes nothing on the identity:
    Twilio answers it with the account's help text and the agent sees the message)."""
    word = (body or "").strip().upper()
    opt_out, opt_in = (WHATSAPP_OPT_OUT, WHATSAPP_OPT_IN) if channel == "whatsapp" else (OPT_OUT, OPT_IN)
    if word in opt_out:
        return "opt_out"
    if word in opt_in:
        return "opt_in"
    return ""


def is_help(body: str) -> bool:
    return (body or "").strip().upper() in HELP
