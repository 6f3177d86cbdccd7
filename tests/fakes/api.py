"""Helpers for tests of the API: a token and a client that sends it."""

import json

from django.test import Client

from api.models import ApiToken

BASE = "/api/v1"


def create_token(user, name="test") -> str:
    token = ApiToken(name=name, user=user)
    raw = token.set_new_secret()
    token.save()
    return raw


class ApiClient:
    """Django's test client with `Authorization: Bearer` and JSON bodies."""

    def __init__(self, raw_token: str | None, **client_kwargs):
        self.client = Client(**client_kwargs)
        self.headers = {"Authorization": f"Bearer {raw_token}"} if raw_token else {}

    def get(self, path, params=None, **headers):
        return self.client.get(BASE + path, params or {}, headers={**self.headers, **headers})

    def post(self, path, data=None, **headers):
        body = data if isinstance(data, (bytes, str)) else json.dumps(data or {})
        return self.client.post(BASE + path, body, content_type="application/json",
                                headers={**self.headers, **headers})
