"""The one way untrusted JSON is read (provider webhooks, the chat API, websocket frames).

`json.loads` alone is not safe on hostile input: 100,000 nested brackets raise RecursionError
(a 500, or a websocket closed with 1011), `NaN`/`Infinity` are accepted although JSON has no
such values, and a lone surrogate (`"\\ud800"`) decodes into a str that cannot be encoded to
UTF-8, so the crash comes later, at the database write. This module bounds the nesting before
anything is decoded, refuses the non-JSON constants, replaces lone surrogates with U+FFFD
(the text is kept) and checks the top-level type, raising one error with a clear reason."""

from __future__ import annotations

import json
import re

from django.utils.translation import gettext as _

# Deeper than any provider payload we know (Meta's are ~8 levels), far below the recursion limit.
MAX_DEPTH = 64

_SURROGATE = re.compile("[\ud800-\udfff]")
# A surrogate as a \u escape, or as raw bytes (json.loads decodes bytes with "surrogatepass").
_ENCODED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


class BadJson(ValueError):
    """The input is not acceptable JSON; `reason` says why, for the client and the log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


def _finite(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):  # 1e999: JSON has no infinity either
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _check(value, max_depth: int, clean: bool):
    """Walk the decoded value without recursion: refuse nesting beyond max_depth and, when
    `clean`, replace lone surrogates in every string (keys too) in place."""
    fix = (lambda s: _SURROGATE.sub("\ufffd", s)) if clean else None
    if isinstance(value, str):
        return fix(value) if clean else value
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise BadJson(_("JSON nested deeper than %(depth)d levels") % {"depth": max_depth})
        if isinstance(item, dict):
            if clean:
                for key in [k for k in item if _SURROGATE.search(k)]:
                    item[fix(key)] = item.pop(key)
            children = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        for key, child in list(children):
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            elif clean and isinstance(child, str):
                item[key] = fix(child)
    return value


def loads(data: bytes | str, *, expect: type | None = dict, max_depth: int = MAX_DEPTH):
    """Decode untrusted JSON. `expect`: the required top-level type (None: any). Raises BadJson."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data or b"")
    try:
        # The C decoder raises RecursionError cleanly at the interpreter's recursion limit, long
        # before 100,000 levels cost anything; shallower excess is refused by _check below.
        value = json.loads(raw, parse_constant=_no_constants, parse_float=_finite)
    except RecursionError as exc:
        raise BadJson(_("JSON nested deeper than %(depth)d levels") % {"depth": max_depth}) from exc
    except ValueError as exc:
        raise BadJson(_("not JSON: %(error)s") % {"error": exc}) from exc
    if expect is not None and not isinstance(value, expect):
        raise BadJson(_("expected a JSON %(want)s, got %(got)s")
                      % {"want": _TYPE_NAMES.get(expect, expect.__name__), "got": _type_name(value)})
    return _check(value, max_depth, clean=has_escaped_surrogate(raw))


def has_escaped_surrogate(raw: bytes) -> bool:
    """Whether the JSON text may hold a (lone) surrogate; loads() replaced any it found."""
    return (b"\\u" in raw or b"\xed" in raw) and _ENCODED_SURROGATE.search(raw) is not None


_TYPE_NAMES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def _type_name(value) -> str:
    return "null" if value is None else _TYPE_NAMES.get(type(value), type(value).__name__)
