"""Avatars: the customer's picture when we hold one (Identity.meta["avatar_url"]), else
initials on a colour derived from the name. The colours are CSS classes (.av-0 ... .av-7 in
console.css, each checked for 4.5:1 contrast with its text in both themes); no inline style,
because the console's CSP forbids it. console/ui.js builds the same markup for live rows."""

import re
import zlib
from functools import lru_cache
from html import escape

from tickets.models import Identity

PALETTE_SIZE = 8
_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)


def initials(name: str) -> str:
    """ "Ada Lovelace" -> "AL", "ada@example.com" -> "A", "+1 415..." -> "#"."""
    words = _WORD.findall((name or "").split("@")[0])
    letters = [w[0] for w in words if not w.isdigit()]
    if not letters:
        return "#" if words else "?"
    return (letters[0] + (letters[-1] if len(letters) > 1 else "")).upper()


def colour(name: str) -> int:
    """A stable palette index for a name (crc32: the same in every process, unlike hash())."""
    return zlib.crc32((name or "").strip().lower().encode()) % PALETTE_SIZE


def safe_picture(url: str) -> str:
    """Only a picture served by us (a path on our origin): the console's CSP loads images from
    'self' alone, and a provider's URL would tell the provider who looks at whom, and when
    (Messenger's profile_pic URLs also expire). Anything else falls back to initials."""
    return url if isinstance(url, str) and url.startswith("/") and not url.startswith("//") else ""


def avatar_html(name: str, picture: str = "", *, size: str = "") -> str:
    """An <img> or an initials disc, decorative: the name is always written beside it."""
    picture = safe_picture(picture)
    if picture:
        cls = f"avatar{' avatar-' + escape(size) if size else ''}"
        return (f'<img class="{cls}" src="{escape(picture)}" alt="" loading="lazy" '
                f'referrerpolicy="no-referrer">')
    return _disc(name, size)


@lru_cache(maxsize=4096)  # the queue shows the same customers page after page
def _disc(name: str, size: str) -> str:
    cls = f"avatar{' avatar-' + escape(size) if size else ''}"
    return f'<span class="{cls} av-{colour(name)}" aria-hidden="true">{escape(initials(name))}</span>'


def picture_of(identities) -> str:
    """The first picture we hold among a customer's identities (most recently active first)."""
    for identity in identities:
        picture = safe_picture((identity.meta or {}).get("avatar_url", ""))
        if picture:
            return picture
    return ""


def pictures_of(customer_ids) -> dict:
    """{customer_id: picture} for those of these customers we hold a picture of: one query
    whatever their number (the queue's rows), reading only identities that have one."""
    pictures: dict = {}
    rows = (Identity.objects.filter(customer_id__in=set(customer_ids), meta__has_key="avatar_url")
            .order_by("-pk").values_list("customer_id", "meta"))
    for customer_id, meta in rows:
        picture = safe_picture((meta or {}).get("avatar_url", ""))
        if picture:
            pictures.setdefault(customer_id, picture)
    return pictures
