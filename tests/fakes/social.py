"""Faking Meta's and Telegram's HTTP APIs at the transport, in the style of tests.fakes.channel:
the adapters' real request-building and error-handling code runs; only the network is fake.

    with fake_http() as api:
        api.on("POST", "/me/messages", json={"message_id": "m_1"})
        ...
    assert api.requests[0].json()["message"] == {"text": "hi"}
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from dataclasses import dataclass, field

import httpx

from channels_social import http

# The secrets tests/settings.py configures (the shared Meta fixtures are signed with the first).
META_TEST_SECRET = "test-meta-app-secret"  # noqa: S105
TELEGRAM_TEST_SECRET = "test-telegram-secret"  # noqa: S105


@dataclass
class Recorded:
    method: str
    url: httpx.URL
    headers: httpx.Headers
    content: bytes

    def json(self):
        return json.loads(self.content)

    @property
    def path(self) -> str:
        return self.url.path


@dataclass
class Route:
    method: str
    path_contains: str
    response: httpx.Response | Exception
    once: bool = False


@dataclass
class FakeApi:
    requests: list[Recorded] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)

    def on(self, method: str, path_contains: str, *, json=None, status: int = 200, content: bytes = b"",
           headers: dict | None = None, error: Exception | None = None, once: bool = False) -> FakeApi:
        """Answer requests whose path contains `path_contains`. `once` routes answer one request
        each, in the order given, before any other; otherwise the newest matching route wins."""
        if error is not None:
            response = error
        elif json is not None:
            response = httpx.Response(status, json=json, headers=headers)
        else:
            response = httpx.Response(status, content=content, headers=headers)
        self.routes.append(Route(method.upper(), path_contains, response, once))
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(Recorded(request.method, request.url, request.headers, request.content))
        matching = [r for r in self.routes if r.method == request.method and r.path_contains in request.url.path]
        once = [r for r in matching if r.once]
        if not matching:
            raise AssertionError(f"unexpected {request.method} {request.url}")
        route = once[0] if once else matching[-1]
        if route.once:
            self.routes.remove(route)
        if isinstance(route.response, Exception):
            raise route.response
        return httpx.Response(route.response.status_code, headers=route.response.headers,
                              content=route.response.content)

    def sent(self, path_contains: str) -> list[Recorded]:
        return [r for r in self.requests if path_contains in r.url.path]


@contextlib.contextmanager
def fake_http():
    api = FakeApi()
    previous, http.transport = http.transport, httpx.MockTransport(api.handle)
    try:
        yield api
    finally:
        http.transport = previous


def meta_signature(body: bytes, secret: str = META_TEST_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_meta(client, payload, secret: str = META_TEST_SECRET):
    """POST a Meta webhook body (a dict, compact-serialised as Meta does, or raw bytes), signed."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
    return client.generic("POST", "/channels/meta/webhook/", body, content_type="application/json",
                          headers={"X-Hub-Signature-256": meta_signature(body, secret)})


def post_telegram(client, update, secret: str = TELEGRAM_TEST_SECRET):
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    return client.generic("POST", "/channels/telegram/webhook/", body, content_type="application/json",
                          headers={"X-Telegram-Bot-Api-Secret-Token": secret})


def reply_and_deliver(ticket, agent, run_tasks, capture, text="Thanks!", **kwargs):
    """An agent's reply, committed, then the delivery task run by the real worker."""
    from tickets import services
    from tickets.models import Message

    with capture(execute=True):
        reply = services.reply(ticket, author=agent, text=text, client_id=f"social-{Message.objects.count()}", **kwargs)
    run_tasks()
    reply.refresh_from_db()
    return reply
