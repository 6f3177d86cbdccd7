"""Authenticate a console websocket by the agent's session cookie, and keep nothing else.

Channels' AuthMiddlewareStack keeps, for the life of every socket, the parsed cookies, the
session store, a session wrapper around `send` and three copies of the scope: ~4 KB per idle
console tab, and the console never uses them after the handshake (it neither logs in nor
writes the session over its socket). This middleware reads the session once, resolves the user
with Channels' own get_user() (which verifies the session's auth hash, so a password change
still ends old sessions) and passes one scope with `user` to the consumer.
"""

from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.http.cookie import parse_cookie


class SessionUserMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        # This frame lives as long as the socket: it keeps only the scope (the consumer's own).
        scope = dict(scope, user=await session_user(scope))
        return await self.inner(scope, receive, send)


async def session_user(scope):
    cookie = next((value for name, value in scope.get("headers", ()) if name == b"cookie"), b"")
    session_key = parse_cookie(cookie.decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
    return await get_user({"session": import_module(settings.SESSION_ENGINE).SessionStore(session_key)})
