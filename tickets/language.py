"""A ticket's language: what the customer's channel says (an email's Content-Language, a
browser's Accept-Language, Telegram's language_code), else a guess from the text.

Adapters put the channel's hint in `InboundMessage.meta["language"]` (a language tag or an
Accept-Language value, as received); ingest stores `language_for(msg)` in a new ticket's
`meta["language"]`, where surveys and routing rules read it.

The guess is a stop-word count over the languages we support (HELPDESK_LANGUAGES, default
en, de, fr, es: the languages the email channel's reply patterns and the survey ratings read).
Why no library: the well-kept detectors either bring numpy and a model file (py3langid) or
~100 MB of models (lingua); langdetect is unmaintained and non-deterministic. Telling four
European languages apart in a support message is what function words do well, in microseconds
and with no dependency; anything unclear is "" (unknown), never a wrong confident answer.
"""

from __future__ import annotations

import re

from django.conf import settings

# The most frequent function words of each language, minus those shared with another one
# in the list (e.g. "de", "la", "en", "a", "die" in more than one): a hit is evidence.
STOP_WORDS = {
    "en": {"the", "and", "is", "are", "you", "your", "have", "has", "with", "for", "this", "that",
           "not", "but", "please", "thanks", "thank", "hello", "hi", "can", "could", "would", "my",
           "we", "it", "of", "to", "i", "do", "does", "did", "order", "from", "what", "when", "how"},
    "de": {"und", "ist", "nicht", "ich", "sie", "wir", "das", "der", "ein", "eine", "mit", "für", "auf",
           "bitte", "danke", "hallo", "habe", "haben", "meine", "mein", "ihr", "ihre", "wie", "noch", "auch",
           "bei", "von", "zu", "sind", "kann", "können", "wurde", "guten", "bestellung"},
    "fr": {"le", "les", "et", "est", "je", "vous", "nous", "pas", "une", "des", "pour", "avec", "mon",
           "ma", "mes", "votre", "bonjour", "merci", "commande", "ai", "suis", "sur", "dans", "qui", "que",
           "ce", "cette", "il", "elle", "au", "aux", "ne", "plus", "comment", "pourquoi"},
    "es": {"el", "los", "las", "y", "es", "yo", "usted", "nosotros", "una", "del", "para", "con",
           "mi", "mis", "su", "hola", "gracias", "pedido", "tengo", "estoy", "por", "favor", "qué", "como",
           "cómo", "pero", "muy", "está", "al", "lo", "buenos", "días", "quiero"},
}
MIN_HITS = 2  # fewer stop words than this: too little text to say
MARGIN = 1.5  # the winner needs this many times the runner-up's hits
SAMPLE_CHARS = 2000
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_TAG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$")


def supported() -> tuple[str, ...]:
    return tuple(getattr(settings, "HELPDESK_LANGUAGES", ("en", "de", "fr", "es")))


def from_hint(value) -> str:
    """The primary language of a tag or an Accept-Language value ("de-AT", "fr-CH, fr;q=0.9,
    en;q=0.8", "pt_BR"): its first entry with the highest weight, lower-case; "" when none."""
    best, best_q = "", -1.0
    for part in str(value or "").split(",")[:10]:
        tag, _sep, params = part.strip().partition(";")
        match = _TAG.match(tag.strip().lower())
        if not match:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if q > best_q:
            best, best_q = match.group(1), q
    return best


def detect(text: str) -> str:
    """The supported language the text is most clearly written in, or "" when unclear."""
    words = _WORD.findall((text or "")[:SAMPLE_CHARS].lower())
    if not words:
        return ""
    scores = sorted(((sum(w in STOP_WORDS[lang] for w in words), lang) for lang in supported() if lang in STOP_WORDS),
                    reverse=True)
    if not scores:
        return ""
    (top, lang), runner_up = scores[0], (scores[1][0] if len(scores) > 1 else 0)
    return lang if top >= MIN_HITS and top >= MARGIN * runner_up and top > runner_up else ""


def language_for(subject: str, text: str, hint="") -> str:
    return from_hint(hint) or detect(f"{subject}\n{text}")
