"""Show the console in each agent's time zone and language (after AuthenticationMiddleware).

Time zone: the agent's setting, else the browser's (the helpdesk_tz cookie console/time.js
sets), else TIME_ZONE. Language: the agent's setting, else what LocaleMiddleware chose from the
browser. Both are read with the user (backends.AgentPreferencesBackend), so every request sees
the agent's current choice without a query of its own. Requests without a session cookie
(webhooks, the widget) are left alone."""

import logging
import zoneinfo

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.utils import timezone, translation

from preferences import services

log = logging.getLogger(__name__)
TZ_COOKIE = "helpdesk_tz"


class AgentPreferencesMiddleware:
    # Both sync and async: under ASGI a sync-only middleware in the middle of the chain costs
    # every request two more hops between the event loop and a thread (async_to_sync below it,
    # sync_to_async above it). Requests without a session cookie (webhooks) touch no database here.
    sync_capable = async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        _activate(request, _preferences(request))
        return self.get_response(request)

    async def __acall__(self, request):
        preferences = ("", "")
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            preferences = await sync_to_async(_preferences)(request)
        _activate(request, preferences)
        return await self.get_response(request)


def _preferences(request) -> tuple[str, str]:
    """(time zone, language) of the signed-in agent, or empty ones."""
    if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
        return services.of(request.user)  # read with the user: no query
    return "", ""


def _activate(request, preferences: tuple[str, str]) -> None:
    zone, language = preferences
    request.agent_time_zone = zone
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language
    zone = zone or request.COOKIES.get(TZ_COOKIE, "")
    if zone and services.valid_time_zone(zone):
        timezone.activate(zoneinfo.ZoneInfo(zone))
    else:
        timezone.deactivate()


def context(request) -> dict:
    """base.html's body[data-tz]: the agent's chosen zone, or empty for "the browser's"."""
    return {"agent_time_zone": getattr(request, "agent_time_zone", "")}
