"""A fake Twilio at the HTTP boundary, for tests.

`fake_twilio()` mounts a requests transport on the adapters' session: the twilio library, our
HttpClient and the media download all run for real; only the bytes never leave the process.
Every request is recorded as it would go on the wire (method, URL, headers, body, timeout)."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from twilio.request_validator import RequestValidator

from tickets.channels import get_adapter

_sids = itertools.count(1)


@dataclass
class SentRequest:
    method: str
    url: str
    headers: dict
    body: bytes
    timeout: object

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs((self.body or b"").decode(), keep_blank_values=True)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict = b""
    headers: dict = field(default_factory=dict)
    only_for: str = ""  # answer only a request whose URL ends with this (e.g. "/Messages.json")


class FakeTwilio(BaseAdapter):
    """Answers like Twilio: Messages.json creates a message (201 with a fresh SM sid), media
    URLs return bytes. Queue Reply objects or exceptions in `replies` to script failures."""

    def __init__(self):
        super().__init__()
        self.sent: list[SentRequest] = []
        self.replies: list[Reply | Exception] = []
        self.media: dict[str, Reply] = {}  # url -> reply for GETs
        self.created_sids: list[str] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        self.sent.append(SentRequest(request.method, request.url, dict(request.headers), body, timeout))
        reply = self._scripted(request.url) or self.default_reply(request)
        if isinstance(reply, Exception):
            raise reply
        return self.build(request, reply)

    def _scripted(self, url: str):
        """The first queued reply meant for this request (any request, unless `only_for`)."""
        for i, reply in enumerate(self.replies):
            if not getattr(reply, "only_for", "") or url.endswith(reply.only_for):
                return self.replies.pop(i)
        return None

    def default_reply(self, request) -> Reply:
        if request.method == "POST" and request.url.endswith("/Messages.json"):
            sid = f"SM{next(_sids):032x}"
            self.created_sids.append(sid)
            return Reply(201, {"sid": sid, "status": "queued"})
        if request.method == "GET" and request.url in self.media:
            return self.media[request.url]
        return Reply(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})

    @staticmethod
    def build(request, reply: Reply) -> requests.Response:
        response = requests.Response()
        response.status_code, response.request, response.url = reply.status, request, request.url
        content = reply.body
        headers = dict(reply.headers)
        if isinstance(content, dict):
            content = json.dumps(content).encode()
            headers.setdefault("Content-Type", "application/json")
        response._content = content
        response.headers = CaseInsensitiveDict(headers)
        response.encoding = "utf-8"
        return response

    def close(self):
        pass

    @property
    def api_calls(self) -> list[SentRequest]:
        return [r for r in self.sent if r.url.endswith("/Messages.json")]


def twilio_error(status: int, code: int, message: str, headers=None) -> Reply:
    return Reply(status, {"code": code, "message": message, "status": status,
                          "more_info": f"https://www.twilio.com/docs/errors/{code}"}, headers or {})


@contextlib.contextmanager
def fake_twilio(keys=("sms", "whatsapp")):
    """Route the named adapters' Twilio traffic to one FakeTwilio for the duration."""
    fake = FakeTwilio()
    adapters = [get_adapter(key) for key in keys]
    saved = [adapter.http.session for adapter in adapters]
    session = requests.Session()
    session.mount("https://", fake)
    session.mount("http://", fake)
    for adapter in adapters:
        adapter.http.session = session
    try:
        yield fake
    finally:
        for adapter, original in zip(adapters, saved, strict=True):
            adapter.http.session = original


def sign(url: str, params: dict, token: str) -> str:
    """X-Twilio-Signature for a form post to `url`, as Twilio computes it."""
    return RequestValidator(token).compute_signature(url, params)


def form_body(params: dict) -> bytes:
    return urlencode(params).encode()


@dataclass(frozen=True)
class CapturedWebhook:
    """A captured Twilio post: the wire body, plus the URL and signature from its .source.txt."""

    body: bytes
    url: str
    signature: str

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @property
    def params(self) -> dict:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


def load_captured(txt_path) -> CapturedWebhook:
    txt_path = Path(txt_path)
    source = txt_path.with_name(txt_path.stem + ".source.txt").read_text()
    url = re.search(r"POST (https?://\S+)", source).group(1)
    signature = re.search(r"X-Twilio-Signature \([^)]*\):\s*(\S+)", source).group(1)
    return CapturedWebhook(txt_path.read_bytes(), url, signature)
