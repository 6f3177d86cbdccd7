"""Untrusted HTML: an allow-list sanitiser (nh3), applied once, when a message is stored.

The console additionally renders message HTML inside a sandboxed iframe under a strict CSP and
blocks remote images until the agent allows them; this is the first of those layers."""

import logging
import re

import nh3
from django.conf import settings
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div",
    "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li",
    "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"title", "dir", "lang", "align"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "valign"},
    "th": {"colspan", "rowspan", "valign", "scope"},
    "font": {"color", "size"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
}
# cid: stays so inline images can be rewritten to our attachment URLs; no javascript:, no data:.
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}


def sanitize_html(html: str, attribute_filter=None) -> str:
    """attribute_filter(tag, attribute, value) -> new value or None (drop it): the console uses it to
    rewrite cid: image sources while re-checking the stored HTML against the same allow-list."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=attribute_filter,
    )


# --- bounded sanitising, before the write transaction ------------------------------------------
# html5ever's tree builder is quadratic in nesting depth: a 500 KB mail of 100,000 nested <div>s
# took 112 s inside nh3, inside the ingest transaction, and SQLite answered "database is
# locked" to everyone else meanwhile. So HTML beyond these bounds is not parsed at all: the
# message keeps its text (and the raw payload), meta["html_dropped"] says why, the console
# shows it. Counting tags is a linear regex pass, skipped when there are too few "<" to matter.

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)")
# Elements that never contain others, or whose end tag mail clients routinely leave out: they
# do not count towards the depth, so sloppy but ordinary HTML (<p> after <p>) is not dropped.
_FLAT = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                   "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option"})

_START = re.compile(r"<[a-zA-Z]")
_NESTING_START = re.compile(r"<(?!(?:" + "|".join(sorted(_FLAT)) + r")[\s/>])[a-zA-Z]", re.I)


class SanitisedHtml(str):
    """HTML that has been through sanitize_bounded(): ingest() does not clean it a second time."""


def html_bounds_exceeded(html: str) -> str:
    """Why this HTML is too big or too deep to parse safely, or "" when it is within bounds."""
    max_bytes, max_depth = settings.HELPDESK_HTML_MAX_BYTES, settings.HELPDESK_HTML_MAX_DEPTH
    max_elements = settings.HELPDESK_HTML_MAX_ELEMENTS
    if len(html) > max_bytes or (len(html) * 4 > max_bytes and len(html.encode("utf-8", "surrogatepass")) > max_bytes):
        return _("HTML larger than %(limit)d bytes") % {"limit": max_bytes}
    # Counting in C first: an ordinary mail has too few tags to break a bound, and never
    # reaches the Python loop below (ingest is the hot path).
    if html.count("<") <= min(max_depth, max_elements):
        return ""
    if len(_START.findall(html)) > max_elements:
        return _("HTML with more than %(limit)d elements") % {"limit": max_elements}
    if len(_NESTING_START.findall(html)) <= max_depth:
        return ""
    depth = 0
    for match in _TAG.finditer(html):
        closing, name = match.groups()
        if name.lower() in _FLAT:
            continue
        if closing:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > max_depth:
                return _("HTML nested deeper than %(limit)d elements") % {"limit": max_depth}
    return ""


def sanitize_bounded(html: str) -> tuple[SanitisedHtml, str]:
    """(sanitised HTML, "") or, beyond the bounds, ("", the reason). Call it outside any write
    transaction; its result passes through ingest() untouched."""
    if isinstance(html, SanitisedHtml):
        return html, ""
    if not html:
        return SanitisedHtml(""), ""
    reason = html_bounds_exceeded(html)
    if reason:
        log.warning("message HTML dropped (%s); the text is kept", reason)
        return SanitisedHtml(""), reason
    return SanitisedHtml(sanitize_html(html)), ""
