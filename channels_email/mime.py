"""Reading RFC 5322 mail with the standard library (policy.default), defensively.

Mail in the wild lies about its charset, nests multiparts, forwards whole messages and breaks
headers. Raw mail (the MTA pipe, mbox) is parsed with the compat32 policy and every header is
decoded explicitly here (RFC 2047 words, raw 8-bit): policy.default's structured header objects
cost ~5 ms a message, which alone would cap the pipe at 200 messages/s. ESP webhooks hand us
anymail's policy.default AnymailInboundMessage; both go through the same helpers. These helpers never raise on bad input: they decode what they can (the WHATWG rule:
"iso-8859-1"/"us-ascii" mean windows-1252; unlabelled ISO-2022-JP is recognised by its escape
sequences) and leave the rest to the quarantine.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import Message as EmailMessage
from email.utils import collapse_rfc2231_value, getaddresses
from html.parser import HTMLParser

MAX_DEPTH = 20
_ISO2022JP = (b"\x1b$B", b"\x1b$@", b"\x1b(J", b"\x1b(B")
_LATIN = {"us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "cp819"}
_ADDRESS = re.compile(r"^[^@\s<>\"',;:]+@[^@\s<>\"',;:]+\.[^@\s<>\"',;:]+$")


def parse_bytes(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=policy.compat32)


def decode_bytes(data: bytes, charset: str | None) -> str:
    charset = (charset or "").strip().strip('"').lower()
    data = data.replace(b"\x00", b"")  # PostgreSQL text cannot hold NUL
    if any(seq in data for seq in _ISO2022JP) and charset in ("", "us-ascii", "ascii", "iso-2022-jp"):
        try:
            return data.decode("iso-2022-jp")
        except UnicodeDecodeError:
            pass
    if charset in _LATIN or not charset:
        try:
            return data.decode("utf-8")  # "ascii" mail that is really UTF-8
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def part_text(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = part.get_payload()
        return payload.replace("\x00", "") if isinstance(payload, str) else ""
    return decode_bytes(payload, param(part, "charset"))


def param(part: EmailMessage, name: str, header: str = "content-type") -> str:
    """A MIME parameter as text. An RFC 2231 value (`charset*=utf-8''...`, `name*0*=...`)
    arrives from get_param() as a (charset, language, value) tuple: collapse it the standard
    library's way, falling back to the raw value if its charset is unknown."""
    try:
        value = part.get_param(name, header=header)
    except (ValueError, LookupError, TypeError, IndexError):
        return ""
    if isinstance(value, tuple):
        try:
            return collapse_rfc2231_value(value, fallback_charset="utf-8")
        except (LookupError, UnicodeDecodeError, TypeError, ValueError):
            return value[2] if len(value) > 2 and isinstance(value[2], str) else ""
    return value or ""


def clean(value: str) -> str:
    """A header value as text: RFC 2047 words decoded, raw 8-bit bytes read as UTF-8/cp1252."""
    value = value or ""
    if "=?" in value:
        try:
            value = str(make_header(decode_header(value)))
        except (ValueError, LookupError, UnicodeDecodeError, AssertionError):
            pass
    return " ".join(_unescape_8bit(value).replace("\x00", "").split())


def _unescape_8bit(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped 8-bit bytes from a raw header
        value = decode_bytes(value.encode("utf-8", "surrogateescape"), "")
    return value


def header(msg: EmailMessage, name: str) -> str:
    """The first `name` header as text, without trusting the structured header parser (it can
    raise on malformed input)."""
    lname = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lname:
            return clean(str(value))
    return ""


def header_all(msg: EmailMessage, name: str) -> list[str]:
    lname = name.lower()
    return [clean(str(v)) for k, v in msg.raw_items() if k.lower() == lname]


def addresses(msg: EmailMessage, *names: str) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs from address headers; junk is dropped.

    Addresses are parsed *before* display names are decoded (Mailsploit): decoding first turns
    `=?utf-8?q?victim=40corp=2Etest=2C?= <mallory@evil.test>` into a list whose first address
    is the victim's. RFC 2047 allows encoded words only in the display name, never in the
    address itself."""
    lnames = {name.lower() for name in names}
    pairs = []
    for key, value in msg.raw_items():
        if key.lower() not in lnames:
            continue
        parsed = getattr(value, "addresses", None)
        if parsed is not None:  # a policy.default header object (anymail builds these): parsed already
            pairs += [(a.display_name, a.addr_spec) for a in parsed]
        else:
            pairs += getaddresses([_unescape_8bit(str(value)).replace("\x00", "")])
    found = []
    for display, address in pairs:
        address = address.strip().lower()
        if _ADDRESS.match(address):
            found.append((clean(display), address))
    return found


def message_ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


@dataclass
class Body:
    text_parts: list[str] = field(default_factory=list)
    html_parts: list[str] = field(default_factory=list)
    attachments: list[tuple[str, str, bytes, str, bool]] = field(default_factory=list)
    # (filename, content type, content, content id, inline)

    @property
    def text(self) -> str:
        return "\n\n".join(p for p in self.text_parts if p.strip())

    @property
    def html(self) -> str:
        return "\n".join(self.html_parts)


def body(msg: EmailMessage) -> Body:
    out = Body()
    _walk(msg, out, 0)
    return out


def _walk(part: EmailMessage, out: Body, depth: int) -> None:
    ctype = part.get_content_type()
    if ctype == "message/rfc822" or (depth > MAX_DEPTH and part.is_multipart()):
        # A forwarded message stays whole: the agent opens it as the .eml it was.
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else None
        content = inner.as_bytes() if inner is not None else (part.get_payload(decode=True) or b"")
        subject = header(inner, "Subject") if inner is not None else ""
        out.attachments.append((_filename(part) or f"{subject or 'message'}.eml", "message/rfc822",
                                content, "", False))
        return
    if ctype.startswith("multipart/") and not part.is_multipart():
        # A multipart without a usable boundary: the stdlib leaves it as text; read it as such.
        out.text_parts.append(part_text(part))
        return
    if part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, EmailMessage):
                _walk(sub, out, depth + 1)
        return
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part)
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        (out.text_parts if ctype == "text/plain" else out.html_parts).append(part_text(part))
        return
    content = part.get_payload(decode=True)
    if content is None:
        raw = part.get_payload()
        content = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    content_id = header(part, "Content-ID").strip("<> ")
    inline = disposition == "inline" or (bool(content_id) and disposition != "attachment")
    out.attachments.append((filename, ctype, content, content_id, inline))


def _filename(part: EmailMessage) -> str:
    try:
        name = part.get_filename() or ""  # RFC 2231 and RFC 2047 names decoded here
    except (ValueError, LookupError, TypeError, IndexError):
        name = ""
    if "\ufffd" in name:  # raw 8-bit bytes in the parameter: read them from the raw header
        for field in ("Content-Disposition", "Content-Type"):
            found = re.search(r'(?:file)?name="?([^";]+)', header(part, field))
            if found:
                return clean(found.group(1))
    return clean(name)


class _TextExtractor(HTMLParser):
    BLOCK = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("p", "div", "tr", "blockquote"):
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001,S110 - HTMLParser on hostile input: keep what was read
        pass
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
