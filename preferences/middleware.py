"""Show the console in each agent's time zone and language (after AuthenticationMiddleware).

Time zone: the agent's setting, else the browser's (the helpdesk_tz cookie console/time.js
sets), else TIME_ZONE. Language: the agent's setting, else what LocaleMiddleware chose from the
browser. Both are read with the user (backends.AgentPreferencesBackend), so every request sees
the agent's current choice without a query of its own. Requests without a session cookie
(webhooks, the widget) are left alone."""

import logging
import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

from preferences import services

log = logging.getLogger(__name__)
TZ_COOKIE = "helpdesk_tz"


class AgentPreferencesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.agent_time_zone = ""
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            zone, language = services.of(request.user)  # read with the user: no query
            request.agent_time_zone = zone
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        else:
            zone = ""
        zone = zone or request.COOKIES.get(TZ_COOKIE, "")
        if zone and services.valid_time_zone(zone):
            timezone.activate(zoneinfo.ZoneInfo(zone))
        else:
            timezone.deactivate()
        return self.get_response(request)


def context(request) -> dict:
    """base.html's body[data-tz]: the agent's chosen zone, or empty for "the browser's"."""
    return {"agent_time_zone": getattr(request, "agent_time_zone", "")}
