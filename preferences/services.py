"""The one write of this app: an agent saves their own preferences. The session keeps a copy
(read by the middleware on every request without a query); other sessions of the same agent
pick the change up when they next log in."""

from zoneinfo import available_timezones

from django.conf import settings

from preferences.models import AgentPreferences

SESSION_KEY = "helpdesk_prefs"


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


def save(user, *, time_zone: str, language: str, session=None) -> AgentPreferences:
    """Store `user`'s choices (blank: follow the browser). Raises ValueError on an unknown one."""
    if time_zone and not valid_time_zone(time_zone):
        raise ValueError(f"unknown time zone: {time_zone!r}")
    if language and not valid_language(language):
        raise ValueError(f"unknown language: {language!r}")
    prefs, _ = AgentPreferences.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone, "language": language})
    if session is not None:
        session[SESSION_KEY] = [time_zone, language]
    return prefs


def load(user, session) -> tuple[str, str]:
    """(time zone, language) for `user`, from the session when it holds them, else one query."""
    cached = session.get(SESSION_KEY)
    if cached is None:
        prefs = AgentPreferences.objects.filter(user=user).values_list("time_zone", "language").first()
        cached = list(prefs) if prefs else ["", ""]
        session[SESSION_KEY] = cached
    return cached[0], cached[1]


def on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session.pop(SESSION_KEY, None)
        load(user, request.session)
