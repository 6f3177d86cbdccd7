"""The one write of this app: an agent saves their own preferences. Every request reads them
with the user (backends.AgentPreferencesBackend: no query of their own), so the change reaches
all of the agent's sessions at their next request; their open consoles hear it at once (a push
to the agent's own sockets: a new time zone re-writes the times in place, a new language
reloads the page, drafts kept)."""

import json
from functools import partial
from zoneinfo import available_timezones

from django.conf import settings
from django.db import transaction

from preferences.models import AgentPreferences
from tickets import doorbell, events


def valid_time_zone(name: str) -> bool:
    return name in _zones()


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def time_zone_choices() -> list[str]:
    return sorted(z for z in _zones() if "/" in z or z == "UTC")


def language_choices() -> list[tuple[str, str]]:
    return list(settings.LANGUAGES)


def valid_language(code: str) -> bool:
    return code in dict(settings.LANGUAGES)


def save(user, *, time_zone: str, language: str) -> AgentPreferences:
    """Store `user`'s choices (blank: follow the browser). Raises ValueError on an unknown one."""
    if time_zone and not valid_time_zone(time_zone):
        raise ValueError(f"unknown time zone: {time_zone!r}")
    if language and not valid_language(language):
        raise ValueError(f"unknown language: {language!r}")
    before = of(user)
    with transaction.atomic():
        prefs, _ = AgentPreferences.objects.update_or_create(
            user=user, defaults={"time_zone": time_zone, "language": language})
        if language != before[1]:  # the page's words come from the server: read it again
            frame = {"type": "reload"}
        elif time_zone != before[0]:  # times are re-written in place (console/time.js)
            frame = {"type": "notice", "app": "preferences", "time_zone": time_zone}
        else:
            frame = None
        if frame is not None:
            transaction.on_commit(partial(doorbell.push, [events.user_group(user.pk)],
                                          {"type": "user.notice", "frame": json.dumps(frame)}))
    user.console_preferences = prefs  # this request's copy, for the rest of it
    return prefs


def of(user) -> tuple[str, str]:
    """(time zone, language) of `user`, blank for "the browser's". Loaded with the user by
    backends.AgentPreferencesBackend, so no query; a session signed in through another backend
    pays one."""
    try:
        prefs = user.console_preferences
    except AgentPreferences.DoesNotExist:
        return "", ""
    return prefs.time_zone, prefs.language
