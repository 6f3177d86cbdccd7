"""Who a visitor is. An anonymous visitor is a signed token naming a VisitorSession; a site that
knows its user passes user_id + user_hash (HMAC-SHA256 of the id with the inbox's secret) and
only then does the chat join that customer's history. A typed email never identifies anyone."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from livechat.models import Conversation, Inbox, VisitorSession

TOKEN_SALT = "livechat.visitor"  # noqa: S105 - a signing namespace, not a secret


class InvalidToken(Exception):
    pass


def user_hash(inbox: Inbox, user_id: str) -> str:
    """What the embedding site's server computes for its logged-in user (hex digest)."""
    return hmac.new(inbox.hmac_secret.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()


def verify_user(inbox: Inbox, user_id: str, given_hash: str) -> bool:
    if not user_id or not given_hash:
        return False
    return hmac.compare_digest(user_hash(inbox, user_id).encode(), str(given_hash).strip().lower().encode())


def make_token(session: VisitorSession) -> str:
    return signing.dumps({"s": str(session.key), "i": session.inbox.key}, salt=TOKEN_SALT, compress=True)


def session_for_token(token: str, inbox_key: str | None = None) -> VisitorSession:
    """The session a token names, or InvalidToken. The token is signed with SECRET_KEY and
    expires after LIVECHAT_TOKEN_MAX_AGE_DAYS."""
    max_age = timedelta(days=settings.LIVECHAT_TOKEN_MAX_AGE_DAYS)
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT, max_age=max_age)
    except signing.BadSignature as exc:
        raise InvalidToken("bad or expired visitor token") from exc
    if inbox_key is not None and data.get("i") != inbox_key:
        raise InvalidToken("token belongs to another inbox")
    session = (VisitorSession.objects.select_related("inbox")
               .filter(key=data.get("s"), inbox__key=data.get("i"), inbox__is_active=True).first())
    if session is None:
        raise InvalidToken("unknown visitor session")
    return session


def _page_viewed(session: VisitorSession, page_url: str) -> list:
    """The session's pages with this one added (a reload of the same page is not a new view)."""
    pages = list(session.pages or [])
    if page_url and (not pages or pages[-1].get("url") != page_url):
        pages.append({"url": page_url, "at": timezone.now().isoformat()})
    return pages[-VisitorSession.PAGES_KEPT:]


def open_session(inbox: Inbox, token: str = "", user_id: str = "", given_hash: str = "",
                 page_url: str = "", referrer: str = "", user_agent: str = "") -> VisitorSession:
    """Resume the token's session when it still fits, else start a new one.

    A verified user gets the session address "user:<inbox>:<id>" (shared by their devices);
    a token minted for another user, or for a user when the page now says nobody is logged in,
    is not reused (a shared computer must not show the previous user's chat)."""
    user_id = str(user_id or "").strip()[:200]
    verified = verify_user(inbox, user_id, given_hash)
    if user_id and not verified:
        raise InvalidToken("user_hash does not match user_id")
    current = None
    if token:
        try:
            current = session_for_token(token, inbox.key)
        except InvalidToken:
            current = None
    wanted_user = user_id if verified else ""
    if current is not None and current.user_id == wanted_user:
        if page_url:
            current.page_url, current.pages = page_url[:1000], _page_viewed(current, page_url[:1000])
            VisitorSession.objects.filter(pk=current.pk).update(page_url=current.page_url, pages=current.pages)
        return current
    session = VisitorSession(inbox=inbox, user_id=wanted_user, page_url=page_url[:1000],
                             referrer=referrer[:1000], user_agent=user_agent[:400])
    session.pages = _page_viewed(session, session.page_url)
    session.address = (f"user:{inbox.key}:{wanted_user}" if wanted_user
                       else f"visitor:{inbox.key}:{session.key}")
    if wanted_user:
        # Another device of the same user may already have left a contact email or name.
        known = VisitorSession.objects.filter(address=session.address).exclude(email="").order_by("-pk").first()
        if known:
            session.email, session.name = known.email, known.name
    session.save()
    return session


def address_group(address: str) -> str:
    """The channel-layer group of every socket of one chat address (group names are short ASCII)."""
    return "chat-" + hashlib.sha256(address.encode()).hexdigest()[:32]


def ticket_ids(address: str) -> list[int]:
    return list(Conversation.objects.filter(address=address).values_list("ticket_id", flat=True))


def ticket_owners(address: str) -> dict[int, int]:
    """The tickets this chat address may see, each with its customer now (one query)."""
    return dict(Conversation.objects.filter(address=address).values_list("ticket_id", "ticket__customer_id"))


def remember_ticket(address: str, ticket_id: int) -> bool:
    """Record that this chat address may see the ticket; True when it is new."""
    _, created = Conversation.objects.get_or_create(address=address, ticket_id=ticket_id)
    return created


# --- presence of the visitor (for the offline email fallback; written by livechat.presence) ----

def is_here(address: str) -> bool:
    """Whether a browser of this chat address is open now (or was a few seconds ago: a page
    navigation closes the socket for a moment). Heartbeats keep last_seen_at fresh, so a
    process that died without saying goodbye stops counting after LIVECHAT_VISITOR_TIMEOUT."""
    now = timezone.now()
    fresh = now - timedelta(seconds=settings.LIVECHAT_VISITOR_TIMEOUT_SECONDS)
    grace = now - timedelta(seconds=settings.LIVECHAT_OFFLINE_GRACE_SECONDS)
    sessions = VisitorSession.objects.filter(address=address)
    return (sessions.filter(connections__gt=0, last_seen_at__gte=fresh).exists()
            or sessions.filter(last_seen_at__gte=grace).exists())


def contact_email(address: str) -> str:
    return (VisitorSession.objects.filter(address=address).exclude(email="")
            .order_by("-last_seen_at").values_list("email", flat=True).first() or "")
