"""Reading a rating out of a customer's reply ("5", "4/5", "⭐⭐⭐", "great", "gut", "😡").

Only a reply that is *just* a rating counts: "5 stars, thanks!" would be ambiguous enough,
"My order 5 never came" must stay an ordinary message. Languages: English, German, French,
Spanish (the languages the email channel already reads)."""

from __future__ import annotations

import re
import unicodedata

WORDS = {
    1: {"one", "terrible", "awful", "very bad", "eins", "schrecklich", "sehr schlecht", "un", "une",
        "horrible", "très mauvais", "uno", "muy malo", "pésimo", "pesimo"},
    2: {"two", "bad", "poor", "zwei", "schlecht", "deux", "mauvais", "dos", "malo"},
    3: {"three", "ok", "okay", "average", "neutral", "drei", "mittel", "geht so", "trois", "moyen",
        "bof", "tres", "regular", "normal"},
    4: {"four", "good", "vier", "gut", "quatre", "bien", "bon", "cuatro", "bueno"},
    5: {"five", "great", "excellent", "very good", "perfect", "awesome", "fünf", "funf", "sehr gut",
        "ausgezeichnet", "super", "cinq", "très bien", "parfait", "cinco", "excelente", "muy bien",
        "perfecto", "genial"},
}
EMOJI = {
    1: {"😡", "😠", "🤬", "😞", "👎"},
    2: {"🙁", "😕", "☹️", "☹"},
    3: {"😐", "😶"},
    4: {"🙂", "😊"},
    5: {"😀", "😃", "😄", "😁", "😍", "🤩", "🥰", "👍", "❤️", "❤"},
}
STARS = {"⭐", "★", "🌟"}
_LOOKUP = {w: n for n, words in WORDS.items() for w in words} | {e: n for n, es in EMOJI.items() for e in es}
_NUMBER = re.compile(r"^([1-5])(?:\s*(?:/|out of|von|sur|de)\s*5)?(?:\s*(?:stars?|sterne?|étoiles?|estrellas?))?$")
_TRIM = " \t\r\n.!?,;:'\"()*-"


def parse_rating(text: str) -> int | None:
    """1-5 when the whole reply is a rating, else None."""
    value = unicodedata.normalize("NFC", (text or "")).strip(_TRIM).lower()
    value = re.sub(r"\s+", " ", value)
    if not value or len(value) > 30:
        return None
    match = _NUMBER.match(value)
    if match:
        return int(match.group(1))
    compact = value.replace(" ", "").replace("\ufe0f", "")
    if compact and all(ch in STARS for ch in compact):
        return len(compact) if len(compact) <= 5 else None
    return _LOOKUP.get(value) or _LOOKUP.get(compact) or _LOOKUP.get(value + "\ufe0f")
