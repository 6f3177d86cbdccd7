"""Shared helpers for the email channel tests."""

import base64
import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "email"
SUPPORT = "support@helpdesk.example.com"
BASIC_AUTH = "Basic " + base64.b64encode(b"hook:secret-pass").decode()
WRONG_AUTH = "Basic " + base64.b64encode(b"hook:wrong").decode()


def fixture_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def corpus(name: str) -> bytes:
    return (FIXTURES / "corpus" / f"{name}.eml").read_bytes()


def mail(sender="Jane Customer <jane@example.org>", subject="My order never arrived", body="Where is order 4521?",
         msgid="<first-1@example.org>", headers="", to=SUPPORT) -> bytes:
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {msgid}\r\n"
            f"Date: Sat, 25 Jul 2026 10:19:58 -0700\r\n{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{body}\r\n").encode()
