"""How many SMS segments a text costs, before it is sent.

A single SMS carries 140 bytes: 160 GSM-7 characters, or 70 UCS-2 (UTF-16) code units when any
character falls outside GSM-7. A longer text is split into concatenated segments whose header
leaves 153 GSM-7 characters or 67 UCS-2 units each. Characters of the GSM-7 extension table
(€, [, ], {, }, ...) take two septets and are never split across segments; neither is a UTF-16
surrogate pair (most emoji). Carriers bill per segment, so agents see the count while typing.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("\f^{}\\[~]|€")

GSM7, UCS2 = "GSM-7", "UCS-2"
SINGLE = {GSM7: 160, UCS2: 70}
MULTI = {GSM7: 153, UCS2: 67}


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" | "UCS-2"
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    per_segment: int  # capacity of each segment at this length

    def as_dict(self) -> dict:
        return {"encoding": self.encoding, "segments": self.segments, "units": self.units,
                "per_segment": self.per_segment}


def encoding_of(text: str) -> str:
    return GSM7 if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text) else UCS2


def _unit_sizes(text: str, encoding: str) -> list[int]:
    """The cost of each character, which must stay whole within one segment."""
    if encoding == GSM7:
        return [2 if c in GSM7_EXTENDED else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def sms_segments(text: str) -> SegmentInfo:
    """Segment count of `text` as one SMS (0 segments for an empty text)."""
    text = text or ""
    encoding = encoding_of(text)
    sizes = _unit_sizes(text, encoding)
    units = sum(sizes)
    if units == 0:
        return SegmentInfo(encoding, 0, 0, SINGLE[encoding])
    if units <= SINGLE[encoding]:
        return SegmentInfo(encoding, 1, units, SINGLE[encoding])
    capacity, segments, used = MULTI[encoding], 1, 0
    for size in sizes:
        if used + size > capacity:
            segments, used = segments + 1, 0
        used += size
    return SegmentInfo(encoding, segments, units, capacity)
