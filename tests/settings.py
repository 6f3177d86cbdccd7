"""Test settings: the real settings, plus the fake channel and fast password hashing.
DATABASE_URL / REDIS_URL select PostgreSQL and channels_redis exactly as in production."""

import os
import tempfile

os.environ.setdefault("HELPDESK_VAR_DIR", tempfile.mkdtemp(prefix="helpdesk-test-"))

from helpdesk.settings import *  # noqa: E402,F403
from helpdesk.settings import HELPDESK_CHANNELS, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = VAR_DIR / "media"
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Email channel: every anymail ESP with inbound webhooks, with the shared fixtures' test secrets.
from helpdesk.settings import ANYMAIL  # noqa: E402

ANYMAIL = {**ANYMAIL, "WEBHOOK_SECRET": "hook:secret-pass",
           "MAILGUN_WEBHOOK_SIGNING_KEY": "test-mailgun-signing-key",
           "MANDRILL_WEBHOOK_KEY": "test-mandrill-key",
           "MANDRILL_WEBHOOK_URL": "https://helpdesk.example.com/anymail/mandrill/",
           "BREVO_API_KEY": "test-brevo-api-key",  # anymail's inbound view requires it (attachment downloads)
           "MAILERSEND_INBOUND_SECRET": "test-mailersend-inbound-secret",
           "MAILERSEND_SIGNING_SECRET": "test-mailersend-signing-secret",
           "MAILTRAP_API_TOKEN": "test-mailtrap-api-token",  # inbound mail is fetched from Mailtrap's API
           "MAILTRAP_INBOUND_SECRET": "test-mailtrap-inbound-secret",
           "MAILTRAP_TRACKING_SECRET": "test-mailtrap-tracking-secret",
           "RESEND_API_KEY": "test-resend-api-key",  # inbound mail is fetched from Resend's API
           # svix secrets: "whsec_" + base64 of the key
           "RESEND_INBOUND_SECRET": "whsec_dGVzdC1yZXNlbmQtaW5ib3VuZC1zZWNyZXQ=",
           "RESEND_SIGNING_SECRET": "whsec_dGVzdC1yZXNlbmQtc2lnbmluZy1zZWNyZXQ=",
           # POSTAL_WEBHOOK_KEY is the public half of an RSA key pair that
           # tests/test_email_esp_contract.py generates per run (TestPostalContract sets it).
           }
DEFAULT_FROM_EMAIL = "support@helpdesk.example.com"
EMAIL_TEST_ESPS = ["mailgun", "postmark", "sendgrid", "sparkpost", "mandrill",
                   "brevo", "mailersend", "mailjet", "mailtrap", "postal", "resend"]
HELPDESK_CHANNELS = {
    **HELPDESK_CHANNELS,
    **{f"email_{esp}": {"BACKEND": "channels_email.adapter.EmailAdapter", "esp": esp} for esp in EMAIL_TEST_ESPS},
}
HELPDESK_CHANNELS = {
    **HELPDESK_CHANNELS,
    "fake": "tests.fakes.channel.FakeAdapter",
    "fakesms": {"BACKEND": "tests.fakes.channel.FakeAdapter", "channel": "sms", "secret": "sms-secret"},
}
HELPDESK_DELIVERY_BACKOFF_SECONDS = 0.01
# channels_sms: the shared Twilio fixtures were signed for this URL and token.
HELPDESK_PUBLIC_URL = "https://helpdesk.example.com"
TWILIO_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_AUTH_TOKEN = "test-twilio-auth-token"
TWILIO_TIMEOUT = 7.5
TWILIO_SMS_FROM = "+15005550006"
TWILIO_WHATSAPP_FROM = "whatsapp:+14155238886"
TWILIO_WHATSAPP_TEMPLATES = [
    {"id": "HXb5b62575e6e4ff6129ad7c8efe1f983e", "name": "follow_up", "variables": ["1"]},
]
# channels_social: the shared Meta fixtures are signed with this app secret.
META_APP_SECRET = "test-meta-app-secret"
META_VERIFY_TOKEN = "test-verify-token"
META_PAGE_TOKEN = "test-page-token"
META_INSTAGRAM_TOKEN = "test-instagram-token"
GRAPH_API_VERSION = "v23.0"
WHATSAPP_CLOUD_TOKEN = "test-whatsapp-token"
WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
WHATSAPP_TEMPLATES = [
    {"id": "order_update", "name": "Order update", "language": "en_US", "variables": ["1", "2"],
     "text": "Hi {{1}}, an update on your order {{2}}."},
]
TELEGRAM_BOT_TOKEN = "123456:test-bot-token"
TELEGRAM_SECRET_TOKEN = "test-telegram-secret"
DEBUG = False
ROOT_URLCONF = "tests.urls"

# A file, not Django's shared-cache in-memory database, for SQLite test runs: shared cache
# locks whole tables, so the thread-pool readers of the event log would fail with "table is
# locked" where the real (WAL) database lets them read beside the writer.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405
HELPDESK_CUSTOMER_PICTURES = False  # customer_pictures: its tests turn it on (other tests fake no profile calls)
