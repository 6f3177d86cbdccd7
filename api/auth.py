"""Bearer-token authentication: the token acts as its user, with the console's permissions."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from api.errors import ApiError
from api.models import TOKEN_PREFIX, ApiToken, hash_secret
from tickets import policy

# Writing last_used_at on every request would turn each read into a write; once a minute is
# enough to see which tokens are alive.
LAST_USED_PRECISION = timedelta(minutes=1)


def find_token(raw: str) -> ApiToken | None:
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    prefix = raw[len(TOKEN_PREFIX):].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, hash_secret(raw)):
        return None
    return token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        api_token = find_token(token.strip())
        if api_token is None or not api_token.is_usable or not api_token.user.is_active:
            return None  # -> 401
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        # The permission helpers take a user, as in the console.
        request.user = api_token.user
        if not policy.is_agent(api_token.user):
            raise ApiError(403, "forbidden", _("This token's user is not an agent."))
        return api_token
