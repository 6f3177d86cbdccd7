"""Inline email images: `<img src="cid:...">` shown from the message's own attachments.

Rewritten when the console renders a body, not when mail is stored: the attachment rows (and
so their ids) only exist after the HTML was sanitised, the stored HTML stays what the sender
wrote (provider-neutral, no URLs of this deployment in the database) and every render mints
fresh short-lived URLs.

The URLs carry a signed token instead of relying on the session cookie: the body is framed with
`sandbox=""`, an opaque origin, so the browser treats the image request as cross-site and does
not send the SameSite=Lax session cookie (the browser test checks that the image loads). A token
is minted only after the body view has checked that the agent may see the ticket; it is bound to
one attachment (the signing salt) and to that agent (checked again when the image is served) and
expires after INLINE_URL_MAX_AGE seconds.
"""

from __future__ import annotations

from urllib.parse import unquote

from django.core import signing
from django.urls import reverse

from tickets.models import Attachment
from tickets.sanitize import sanitize_html

# Long enough for a page to load its frames; a reloaded page or frame gets new URLs.
INLINE_URL_MAX_AGE = 300

# Raster formats a browser decodes without running anything, by their leading bytes. SVG (a
# document that can carry script and links) and everything else stay download-only.
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
               (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))
SNIFF_BYTES = 12


def sniff_image(head: bytes) -> str | None:
    """The image type these leading bytes start, or None when it is not an allowed raster."""
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def content_id_key(value: str) -> str:
    """A Content-ID header value in the form ids are compared: without the angle brackets,
    case-folded (mail clients disagree on case)."""
    return value.strip().strip("<>").strip().casefold()


def cid_url_keys(url: str) -> tuple[str, ...]:
    """The Content-ID keys a `cid:` URL may mean: percent-decoded, as RFC 2392 has it, then as
    written, for clients that put a literal `%` of the id into the URL unencoded."""
    written = url[4:] if url[:4].lower() == "cid:" else url
    return tuple(dict.fromkeys((content_id_key(unquote(written)), content_id_key(written))))


def _signer(attachment_id: int) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"tickets.inline-image.{attachment_id}")


def image_url(attachment_id: int, user_id: int) -> str:
    token = _signer(attachment_id).sign(str(user_id))
    return reverse("inline_image", args=[attachment_id, token])


def token_user_id(attachment_id: int, token: str) -> int | None:
    """The agent a valid, unexpired token for this attachment was minted for."""
    try:
        return int(_signer(attachment_id).unsign(token, max_age=INLINE_URL_MAX_AGE))
    except (signing.BadSignature, ValueError):  # SignatureExpired is a BadSignature
        return None


def url_prefix() -> str:
    """The path every inline image URL starts with (the body's CSP allows images from it)."""
    return reverse("inline_image", args=[0, "t"]).removesuffix("0/t/")


def _attachments_by_content_id(message_id: int) -> dict[str, int]:
    found: dict[str, int] = {}
    rows = (Attachment.objects.filter(message_id=message_id, state=Attachment.State.STORED)
            .exclude(content_id="").exclude(file="").order_by("pk").values_list("pk", "content_id"))
    for pk, content_id in rows:
        found.setdefault(content_id_key(content_id), pk)
    return found


def rewrite(html: str, *, message_id: int, user_id: int) -> str:
    """The message's HTML with each `cid:` image source that names one of *this* message's
    stored attachments pointing at our inline image URL. An unknown cid stays as it is: a
    browser fetches nothing for it and the body's CSP allows no such source anyway."""
    if "cid:" not in html.lower():
        return html
    attachments = _attachments_by_content_id(message_id)
    if not attachments:
        return html

    def source(tag, attribute, value):
        if tag == "img" and attribute == "src" and value[:4].lower() == "cid:":
            for key in cid_url_keys(value):
                if key in attachments:
                    return image_url(attachments[key], user_id)
        return value

    # Through the same allow-list again: the rewrite works on parsed attributes, not on text.
    return sanitize_html(html, attribute_filter=source)
