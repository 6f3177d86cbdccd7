"""Attachment filenames and limits. A filename is normalised *before* it is validated, so
look-alike or control characters cannot smuggle a different name past the checks."""

import mimetypes
import re
import unicodedata

from django.conf import settings

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class AttachmentRejected(ValueError):
    pass


def normalise_filename(name: str, content_type: str = "") -> str:
    name = unicodedata.normalize("NFKC", name or "")
    name = _BIDI.sub("", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        ext = mimetypes.guess_extension(content_type or "") or ".bin"
        name = "attachment" + ext
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 190] + dot + ext[:9]) if dot else name[:200]
    return name


def check_size(size: int) -> None:
    limit = settings.HELPDESK_MAX_ATTACHMENT_BYTES
    if size > limit:
        raise AttachmentRejected(
            f"attachment is {size} bytes; the limit is {limit} bytes"
        )
