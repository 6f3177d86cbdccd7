"""The event-log sink (settings.HELPDESK_EVENT_SINKS): after a commit in which a customer wrote
on a channel that has pictures (Messenger, Instagram, Telegram), queue a fetch of their picture
when we have none yet or ours is older than HELPDESK_PICTURE_REFRESH_DAYS. Nothing is fetched
here: the worker does it (customer_pictures.fetching), so ingest never waits for a provider.

Cost on the ingest path: no read of the new events (the change's own rows, from memory:
tickets.events.committed); two reads only for a message on a picture channel (tickets.sql, no
ORM compile); a write only when a fetch is due."""

from __future__ import annotations

import logging
import time

from django.conf import settings

from tickets import events, sql
from tickets.channels import channel_config, get_adapter
from tickets.models import Message

log = logging.getLogger(__name__)

_unconfigured_logged: set[str] = set()  # one log line per process and adapter, not per message
# (customer, channel) -> until when their messages are not looked at again in this process: a
# picture is refreshed in days, and a conversation's next messages then cost no extra read.
QUIET_SECONDS = 600
QUIET_ENTRIES = 10_000
_quiet: dict[tuple, float] = {}


def on_event(seqs: list[int]) -> None:
    if not settings.HELPDESK_CUSTOMER_PICTURES:
        return
    try:
        ask_for_pictures(seqs)
    except Exception:  # a picture must never turn a committed message into an error
        log.exception("customer pictures: could not look at events %s", seqs)


def picture_channels() -> set[str]:
    """The channels whose adapter can fetch a profile picture (adapters from the setting),
    worked out once per HELPDESK_CHANNELS value: this runs after every commit."""
    config = channel_config()
    if _channels["config"] is not config:
        found = set()
        for key in config:
            adapter = get_adapter(key)
            if callable(getattr(adapter, "profile_picture", None)):
                found.add(adapter.channel)
        _channels.update(config=config, found=found)
    return _channels["found"]


_channels: dict = {"config": None, "found": set()}


def ask_for_pictures(seqs: list[int]) -> int:
    """Queue the fetches these events call for; returns how many were queued."""
    from customer_pictures import fetching

    channels = picture_channels()
    if not channels:
        return 0
    rows = [(event.message_id, event.data) for event in events.committed(seqs, ("message.created",))]
    now = time.monotonic()
    looked_at = {}
    for message_id, data in rows:
        data = data or {}
        if message_id and data.get("direction") == "inbound" and data.get("channel") in channels:
            key = (data.get("customer"), data["channel"])
            if _quiet.get(key, 0) <= now:
                looked_at[message_id] = key
    if not looked_at:
        return 0
    senders = {identity_id: adapter_key or channel
               for identity_id, adapter_key, channel in sql.values(
                   Message, ("identity_id", "adapter", "channel"), id__in=list(looked_at))
               if identity_id is not None}
    wanted = {}
    for identity_id, key in senders.items():
        adapter = get_adapter(key)
        missing = adapter.picture_missing_setting() if callable(getattr(adapter, "profile_picture", None)) else "-"
        if not missing:
            wanted[identity_id] = key
        elif missing != "-" and key not in _unconfigured_logged:
            _unconfigured_logged.add(key)
            log.warning("customer pictures: %s pictures are not fetched: %s is not set", key, missing)
    queued = fetching.request(wanted) if wanted else 0
    if len(_quiet) > QUIET_ENTRIES:
        _quiet.clear()
    for key in looked_at.values():
        _quiet[key] = now + QUIET_SECONDS
    return queued


def forget() -> None:
    """Look at every customer's next message again (tests; a process keeps this for minutes)."""
    _quiet.clear()
    _unconfigured_logged.clear()
