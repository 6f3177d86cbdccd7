"""Layer 1 of the reply split: the quote containers mail clients put in their HTML.

A client that writes HTML says where its quote is, in a way no language or date format can
blur: Gmail's div.gmail_quote, Apple Mail's and Thunderbird's blockquote type="cite",
Outlook's #divRplyFwdMsg / #appendonsend / the border-top rule above its header block, and so
on. We find those regions (by tag positions in the source, with the standard library's
HTMLParser), and derive the text of what lies outside them.

The answer distinguishes three shapes:
* top-posted: text, then quote(s)            -> visible = the text before;
* bottom-posted: quote(s), then text         -> visible = the text after;
* interleaved: text between quotes           -> nothing is cut (no answer may be lost).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from channels_email.mime import html_to_text
from channels_email.reply_patterns import FORWARDED

# Containers: the quote is the element itself (it ends where the element ends).
_CONTAINER_CLASSES = {"gmail_quote", "gmail_quote_container", "moz-cite-prefix", "yahoo_quoted",
                      "protonmail_quote", "zmail_extra", "zmail_extra_hr", "tutanota_quote", "quote",
                      "spark-quote", "airmail_quote", "bloop_sign", "replyheader", "fastmail_quote",
                      "mail-editor-reference-message-container", "ms-outlook-mobile-reference-message"}
_CONTAINER_IDS = {"yahoo_quoted", "mail-editor-reference-message-container", "isforwardcontent",
                  "zwchr", "appendonsend_quote", "reply-quote", "origbody", "quoted-text"}
# Markers: everything after them (in source order) is the quote: Outlook writes its header
# block and the previous message as siblings after the marker, not inside it.
_REST_IDS = {"divrplyfwdmsg", "appendonsend", "stopspelling", "olk_src_body_section", "divreplyheader",
             "ms-outlook-mobile-body-separator-line", "ecxdivrplyfwdmsg"}
_REST_CLASSES = {"outlookmessageheader", "olk_src_body_section", "divrplyfwdmsg"}
# Outlook desktop's rule above "From: / Sent:": a div whose only border is a solid top line.
_BORDER_TOP = re.compile(r"border-top\s*:\s*(?:solid|[#\w]+\s+[\d.]+\w*\s+solid|[\d.]+\w*\s+solid)", re.I)
_PADDING_TOP = re.compile(r"padding\s*:\s*[\d.]+\w*\s+0", re.I)
# Cheap test first: most HTML mail has none of these and needs no parse here.
_MARKERS = re.compile(r"blockquote|quote|cite|rplyfwd|appendonsend|stopspelling|olk_src|outlookmessageheader|"
                      r"border-top|replyheader|reference-message|zwchr|origbody|isforwardcontent", re.I)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass(frozen=True)
class HtmlSplit:
    visible_text: str
    quoted_text: str
    interleaved: bool = False


def _kind(tag: str, attrs: dict[str, str]) -> str | None:
    classes = {c.lower().removeprefix("x_") for c in attrs.get("class", "").split()}
    ident = attrs.get("id", "").lower().removeprefix("x_")
    if tag == "blockquote":
        return "container"  # type="cite", class="gmail_quote", or a plain blockquote: all quotes
    if ident in _REST_IDS or classes & _REST_CLASSES or (tag == "hr" and ident == "stopspelling"):
        return "rest"
    if classes & _CONTAINER_CLASSES or ident in _CONTAINER_IDS or ident.startswith("yahoo_quoted"):
        return "container"
    style = attrs.get("style", "")[:500]  # a hostile megabyte of style is not a border rule
    if tag in ("div", "p") and _BORDER_TOP.search(style) and (_PADDING_TOP.search(style) or "border:none" in
                                                               style.replace(" ", "").lower()):
        return "rest"
    return None


class _QuoteFinder(HTMLParser):
    """Records (start, end) source offsets of quote regions."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.source = source
        self._line_starts = [0]
        for match in re.finditer("\n", source):
            self._line_starts.append(match.end())
        self.regions: list[tuple[int, int]] = []
        self._open: tuple[str, int, int] | None = None  # (tag, depth, start) of the open container

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs):
        if self._open is not None:
            if tag == self._open[0]:
                self._open = (tag, self._open[1] + 1, self._open[2])
            return
        if self.regions and self.regions[-1][1] == len(self.source):
            return  # after a "rest" marker everything is quote already
        kind = _kind(tag, {k: (v or "") for k, v in attrs})
        if kind == "rest":
            self.regions.append((self._offset(), len(self.source)))
        elif kind == "container" and tag not in _VOID:
            self._open = (tag, 1, self._offset())

    def handle_endtag(self, tag):
        if self._open is None or tag != self._open[0]:
            return
        depth = self._open[1] - 1
        if depth:
            self._open = (tag, depth, self._open[2])
            return
        start = self._open[2]
        end = self.source.find(">", self._offset())
        self.regions.append((start, len(self.source) if end < 0 else end + 1))
        self._open = None

    def close(self):
        super().close()
        if self._open is not None:  # an unclosed container runs to the end
            self.regions.append((self._open[2], len(self.source)))
            self._open = None


def split(html: str) -> HtmlSplit | None:
    """The reply and quote texts of `html`, or None when it has no quote container."""
    if not _MARKERS.search(html):
        return None
    finder = _QuoteFinder(html)
    try:
        finder.feed(html)
        finder.close()
    except Exception:  # noqa: BLE001 - hostile markup: no structure to trust, the text layers decide
        return None
    regions = []
    for start, end in finder.regions:
        quoted = html_to_text(html[start:end])
        if FORWARDED.search(quoted[:300]):
            continue  # a forward is what the customer wants us to read
        regions.append((start, end, quoted))
    if not regions:
        return None
    outside, position = [], 0
    for start, end, _q in regions:
        outside.append(html_to_text(html[position:start]))
        position = end
    outside.append(html_to_text(html[position:]))
    quoted_text = "\n\n".join(q for _s, _e, q in regions if q)
    written = [i for i, text in enumerate(outside) if text.strip()]
    if not written:
        return HtmlSplit(visible_text="", quoted_text=quoted_text)
    if len(written) > 1:
        return HtmlSplit(visible_text=html_to_text(html), quoted_text="", interleaved=True)
    return HtmlSplit(visible_text=outside[written[0]], quoted_text=quoted_text)
