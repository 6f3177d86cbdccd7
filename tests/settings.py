"""Test settings: the real settings, plus the fake channel and fast password hashing.
DATABASE_URL / REDIS_URL select PostgreSQL and channels_redis exactly as in production."""

import os
import tempfile

os.environ.setdefault("HELPDESK_VAR_DIR", tempfile.mkdtemp(prefix="helpdesk-test-"))

from helpdesk.settings import *  # noqa: E402,F403
from helpdesk.settings import HELPDESK_CHANNELS, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = VAR_DIR / "media"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
HELPDESK_CHANNELS = {
    **HELPDESK_CHANNELS,
    "fake": "tickets.testing.FakeAdapter",
    "fakesms": {"BACKEND": "tickets.testing.FakeAdapter", "channel": "sms", "secret": "sms-secret"},
}
HELPDESK_DELIVERY_BACKOFF_SECONDS = 0.01
DEBUG = False
ROOT_URLCONF = "tests.urls"
