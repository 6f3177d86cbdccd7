"""What the reply box offers: the customer's channels, the one to default to, each channel's
constraints (from the adapter's compose_info), and canned responses with placeholders filled."""

from __future__ import annotations

import logging
import re

from django.utils.translation import gettext as _

from tickets.channels import adapters_for_channel, channel_config, get_adapter
from tickets.people import display_name

log = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\{(customer_name|customer_first_name|agent_name|ticket_id|ticket_subject)\}")


def adapter_key_for(identity, history_messages=()) -> str | None:
    """The adapter a reply on this identity would use (as services.route_reply decides): the
    one that carried the customer's last message there, else the first configured."""
    for message in reversed(list(history_messages)):
        if message.identity_id == identity.pk and message.adapter:
            return message.adapter if message.adapter in channel_config() else None
    keys = adapters_for_channel(identity.channel)
    return keys[0] if keys else None


def compose_info(identity, adapter_key: str | None, text: str = "") -> dict:
    if identity.opted_out_at is not None:
        return {"blocked": _("%(address)s opted out (STOP); they cannot be messaged until they opt back in.")
                % {"address": identity.address}}
    if adapter_key is None:
        return {"blocked": _("No adapter is configured for the %(channel)s channel.") % {"channel": identity.channel}}
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
    one the customer last wrote on, else the ticket's own."""
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
