"""What the reply box offers: the customer's channels, the one to default to, each channel's
constraints (from the adapter's compose_info), and canned responses with placeholders filled."""

from __future__ import annotations

import logging
import re

from tickets.channels import get_adapter
from tickets.people import display_name
from tickets.services.outbound import reply_adapter_key, reply_refusal

log = logging.getLogger(__name__)

PLACEHOLDER_NAMES = ("customer_name", "customer_first_name", "agent_name", "ticket_id", "ticket_subject")
PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDER_NAMES) + r")\}")


def adapter_key_for(identity, history_messages=()) -> str | None:
    """The adapter a reply on this identity would use (services.route_reply's rule), from the
    messages already loaded for the page."""
    last = next((m.adapter for m in reversed(list(history_messages))
                 if m.identity_id == identity.pk and m.adapter), None)
    return reply_adapter_key(identity, last)


def compose_info(identity, adapter_key: str | None, text: str = "") -> dict:
    refusal = reply_refusal(identity, adapter_key)
    if refusal:
        return {"blocked": refusal}
    try:
        info = get_adapter(adapter_key).compose_info(identity, text) or {}
    except Exception:  # a broken adapter must not take the ticket page down
        log.exception("compose_info failed for %s", adapter_key)
        info = {}
    return {key: value for key, value in info.items() if _json_safe(value)}


def _json_safe(value) -> bool:
    return isinstance(value, (str, int, float, bool, list, dict, type(None)))


def channel_options(identities, history_messages, last_inbound, ticket) -> tuple[list[dict], str]:
    """One option per reachable identity (channel + address), and the default channel: the
    one the customer last wrote on in this ticket (`last_inbound`), else the ticket's own."""
    options = []
    seen = set()
    for identity in identities:
        if identity.channel in seen:
            continue  # route_reply picks the channel's most recent identity
        seen.add(identity.channel)
        key = adapter_key_for(identity, history_messages)
        options.append({"channel": identity.channel, "address": identity.address, "identity": identity.pk,
                        "adapter": key, "info": compose_info(identity, key)})
    default = last_inbound.channel if last_inbound is not None else ticket.channel
    if default not in seen and options:
        default = options[0]["channel"]
    return options, default


def fill_placeholders(body: str, *, ticket, agent) -> str:
    customer = ticket.customer
    name = customer.name or ""
    values = {
        "customer_name": name,
        "customer_first_name": name.split()[0] if name.split() else "",
        "agent_name": display_name(agent),
        "ticket_id": str(ticket.pk),
        "ticket_subject": ticket.subject,
    }
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], body)
