"""Live-chat context beside a customer (a HELPDESK_CUSTOMER_PANELS / HELPDESK_TICKET_PANELS
entry): what the visitor told the pre-chat form, the page they are on now and the pages they
opened, where they came from, their browser and system. One query, whatever the history."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from livechat import useragent
from livechat.models import VisitorSession
from tickets.models import Identity

SESSIONS_SHOWN = 3


def visitor_context(customer, user, identities=None) -> dict | None:
    """`identities`: the customer's, when the page has them already (no query without a chat one)."""
    if identities is not None:
        chat = [i.address for i in identities if i.channel == "chat"]
        if not chat:
            return None
    else:
        chat = Identity.objects.filter(customer_id=customer.pk, channel="chat").values("address")
    sessions = list(VisitorSession.objects.filter(address__in=chat).order_by("-last_seen_at")[:SESSIONS_SHOWN])
    if not sessions:
        return None
    fresh = timezone.now() - timedelta(seconds=settings.LIVECHAT_VISITOR_TIMEOUT_SECONDS)
    for session in sessions:
        session.browser, session.system = useragent.parse(session.user_agent)
        session.online = session.connections > 0 and session.last_seen_at >= fresh
        session.earlier_pages = list(reversed((session.pages or [])[:-1]))[:10]
    return {"template": "livechat/_visitor_context.html", "context": {"sessions": sessions}}
