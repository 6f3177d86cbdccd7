"""Untrusted HTML: an allow-list sanitiser (nh3), applied once, when a message is stored.

The console additionally renders message HTML inside a sandboxed iframe under a strict CSP and
blocks remote images until the agent allows them; this is the first of those layers."""

import nh3

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
