"""The reply corpora (tests/fixtures/email/replies/*, plus our own replies to our own outbound
mail from tests/reply_languages.py) as whole mails, and how a visible text is scored.

Shared by bench/reply_corpus.py (prints the share per corpus) and tests/test_email_reply_corpus.py
(fails below the goal). Each case goes through the real `ingest_email` path (channels_email.pipe).
"""

from __future__ import annotations

import email.message
import email.policy
import json
import quopri
import re
from dataclasses import dataclass
from pathlib import Path

from tests import reply_languages

ROOT = Path(__file__).parent / "fixtures" / "email" / "replies"
SUPPORT = reply_languages.SUPPORT
GOAL = 0.97


@dataclass(frozen=True)
class Case:
    corpus: str
    name: str
    expected: str  # what was typed ("@whole": the whole body)
    text: str = ""  # a text/plain body, or
    html: str = ""  # a text/html body, or
    eml: bytes = b""  # a whole mail
    cte: str = "8bit"
    language: str = ""  # own corpus: the language and shape
    shape: str = ""


def file_cases() -> list[Case]:
    cases = []
    for manifest in sorted(ROOT.glob("*/cases.json")):
        corpus = manifest.parent.name
        for entry in json.loads(manifest.read_text())["cases"]:
            path = manifest.parent / entry["file"]
            kind = entry.get("kind") or json.loads(manifest.read_text()).get("kind", "text")
            data = path.read_bytes()
            case = Case(corpus=corpus, name=entry["file"], expected=entry["expected"], cte=entry.get("cte", "8bit"))
            if kind == "eml":
                case = Case(**{**case.__dict__, "eml": data})
            elif kind == "html":
                case = Case(**{**case.__dict__, "html": data.decode("utf-8")})
            else:
                text = data.decode("utf-8")
                if case.cte == "quoted-printable":
                    text = quopri.decodestring(data).decode("utf-8")
                case = Case(**{**case.__dict__, "text": text})
            cases.append(case)
    return cases


def own_cases() -> list[Case]:
    return [Case(corpus="own", name=f"{code}-{shape}", expected=lang.typed, language=code, shape=shape)
            for code, lang in reply_languages.LANGUAGES.items() for shape in reply_languages.SHAPES]


def mail(case: Case, *, sender: str, message_id: str, in_reply_to: str = "") -> bytes:
    """The case as the MTA would pipe it, from `sender` (each case its own sender: the flood
    limit counts mail per sender)."""
    if case.language:
        return reply_languages.mime(case.language, case.shape, sender=sender, message_id=message_id,
                                    in_reply_to=in_reply_to)
    if case.eml:
        msg = email.message_from_bytes(case.eml, policy=email.policy.compat32)
        for name in ("From", "Message-ID", "Message-Id", "To", "In-Reply-To", "References"):
            del msg[name]
        msg["From"] = sender
        msg["To"] = SUPPORT
        msg["Message-ID"] = message_id
        return msg.as_bytes()
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = SUPPORT
    msg["Subject"] = "Re: your question"
    msg["Message-ID"] = message_id
    msg["Date"] = "Sat, 25 Jul 2026 10:19:58 -0700"
    if case.html:
        msg.set_content(case.html, subtype="html")
    else:
        msg.set_content(case.text)
    return msg.as_bytes()


def normalise(text: str, *, html: bool = False) -> str:
    """Whitespace is not what was typed: lines are compared with their spaces collapsed and
    blank lines dropped (talon compares its HTML fixtures without any whitespace at all)."""
    if html:
        return re.sub(r"\s", "", text)
    return "\n".join(" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n") if line.strip())


def expected_text(case: Case, full_text: str) -> str:
    return full_text if case.expected == "@whole" else case.expected


def exact(case: Case, visible: str, full_text: str) -> bool:
    html = bool(case.html)
    return normalise(visible, html=html) == normalise(expected_text(case, full_text), html=html)


@dataclass(frozen=True)
class Result:
    case: Case
    ok: bool
    visible: str
    expected: str


def run(cases: list[Case], *, agent, tag: str = "") -> list[Result]:
    """Ingest every case through the MTA pipe; an own-corpus case first gets a ticket with our
    outbound message in it, which the reply then answers (In-Reply-To our Message-ID)."""
    from channels_email import tokens
    from channels_email.pipe import ingest_raw
    from tickets import services

    results = []
    for number, case in enumerate(cases):
        sender = f"customer{number}{tag}@example.org"
        in_reply_to = ""
        if case.language:
            first = (f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: Where is my parcel?\r\n"
                     f"Message-ID: <first{number}{tag}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                     "Where is my parcel 4521?\r\n").encode()
            ticket = ingest_raw(first)[1][0].message.ticket
            ours = services.reply(ticket, author=agent, text=reply_languages.SENT)
            in_reply_to = tokens.message_id(ticket.pk, str(ours.pk))
        data = mail(case, sender=sender, message_id=f"<case{number}{tag}@example.org>", in_reply_to=in_reply_to)
        _payload, items = ingest_raw(data)
        if not items or getattr(items[0], "message", None) is None:
            results.append(Result(case, False, "(not stored)", case.expected))
            continue
        message = items[0].message
        full = message.meta.get("original_text") or message.text
        results.append(Result(case, exact(case, message.text, full), message.text, expected_text(case, full)))
    return results
