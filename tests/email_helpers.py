"""Shared helpers for the email channel tests."""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "email"
SUPPORT = "support@helpdesk.example.com"
BASIC_AUTH = "Basic " + base64.b64encode(b"hook:secret-pass").decode()
WRONG_AUTH = "Basic " + base64.b64encode(b"hook:wrong").decode()


def fixture_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def mailgun_signed(fields: dict, timestamp: int | None = None, key: str = "test-mailgun-signing-key") -> dict:
    """`fields` signed as Mailgun signs a webhook (HMAC of timestamp+token), now by default:
    the adapter refuses signatures older than HELPDESK_WEBHOOK_MAX_AGE_SECONDS."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    token = fields.get("token") or "0" * 50
    signature = hmac.new(key.encode(), f"{stamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {**fields, "timestamp": stamp, "token": token, "signature": signature}


def corpus(name: str) -> bytes:
    return (FIXTURES / "corpus" / f"{name}.eml").read_bytes()


def mail(sender="Jane Customer <jane@example.org>", subject="My order never arrived", body="Where is order 4521?",
         msgid="<first-1@example.org>", headers="", to=SUPPORT) -> bytes:
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {msgid}\r\n"
            f"Date: Sat, 25 Jul 2026 10:19:58 -0700\r\n{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{body}\r\n").encode()
