"""Settings, all driven by environment variables (see README "Configuration").

The embedded default (no variables set) is SQLite in WAL mode plus the in-memory channel
layer: one command runs everything. Setting DATABASE_URL and REDIS_URL gives the scaled mode
(PostgreSQL, channels_redis, several Daphne processes and workers). The code is the same.
"""

import json
import logging
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import get_random_string
from django.utils.csp import CSP
from django.utils.translation import gettext_noop

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
VAR_DIR = Path(env("HELPDESK_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("HELPDESK_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")
    # Development fallback: a per-checkout key kept in var/ so sessions survive restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(get_random_string(64))
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# The public base URL (scheme://host[:port]) as the outside world sees it: used to verify
# provider signatures behind a TLS-terminating proxy and to build links in outbound mail.
HELPDESK_PUBLIC_URL = env("HELPDESK_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "anymail",
    "django_tasks_db",
    "helpdesk",
    "tickets",
    "channels_email",
    "channels_sms",
    "channels_social",
    "livechat",
    "ninja",  # django-ninja's static Swagger UI for /api/v1/docs
    "api",
    "integrations",
    "mailboxes",
    "service_levels",
    "routing",
    "surveys",
    "reports",
    "preferences",  # each agent's time zone and language (issue 17)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "preferences.middleware.AgentPreferencesMiddleware",  # the agent's time zone and language
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",  # <html lang> in the agent's language
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tickets.console.context_processors.live_seq",
                "routing.context.console",  # the availability switch in the console header
                "surveys.context.console",  # the survey's state in the ticket sidebar
                "preferences.middleware.context",  # body[data-tz]: the agent's chosen zone
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'helpdesk.sqlite3'}")
# Persistent connections: opening a SQLite connection (and its PRAGMAs) per database call was
# the largest cost of a busy websocket process. HTTP views run on a few long-lived threads
# (HELPDESK_HTTP_THREADS, helpdesk/http_threads.py) instead of a new thread per request, so
# PostgreSQL keeps its connections too: a connection per request cost ~20% of a webhook's server
# CPU (bench/webhook_load.py). Health checks drop a dead one. On PostgreSQL a per-process pool
# (Django's, psycopg_pool; DATABASE_POOL_SIZE, 0: none) hands connections back at the end of each
# request and unit of work instead. Measured (bench/scaleout.py, README "Real time at team
# scale"): a new connection per webhook was the largest PostgreSQL-only cost of the scaled mode.
# A thread that uses the database and ends without closing its connection keeps its slot for good
# (psycopg_pool cannot take it back): every thread we run database work on closes it after each
# unit of work (tickets.realtime.on_thread_pool, the relay, the runners, the worker);
# tests/test_pool_slots.py checks a console socket session.
_IS_SQLITE = DATABASE_URL.startswith("sqlite")
_POOL_SIZE = 0 if _IS_SQLITE else int(env("DATABASE_POOL_SIZE", "8"))
DATABASES = {"default": dj_database_url.parse(
    DATABASE_URL, conn_max_age=0 if _POOL_SIZE else int(env("DATABASE_CONN_MAX_AGE", "600")),
    conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _threshold = env("DATABASE_PREPARE_THRESHOLD", "5")
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        # tickets.sql's named statements (the ingest path) become server-side prepared
        # statements after this many runs on one connection: the backend's CPU per message
        # fell by a third. Empty: never (a PgBouncer older than 1.21 in transaction mode).
        "prepare_threshold": int(_threshold) if _threshold else None,
        **({"pool": {"min_size": min(2, _POOL_SIZE), "max_size": _POOL_SIZE, "timeout": 30}} if _POOL_SIZE else {}),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN
        # so two writers queue on busy_timeout instead of failing with "database is locked".
        "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                         # temporary b-trees in memory, reads through mmap (measured: ingest ~8%
                         # faster). The page cache is per connection, and every thread that
                         # touches the database keeps one (Channels' sync pool: several): at 32 MB
                         # each a loaded server's heap grew by ~130 MB and stayed there. Read
                         # pages come from the mmap anyway, so a small cache costs little.
                         f"PRAGMA cache_size=-{int(env('HELPDESK_SQLITE_CACHE_KB', '4000'))}; "
                         "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456;"),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer (the doorbell; the Event table is the mailbox) --------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env("REDIS_PREFIX", "helpdesk")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "helpdesk.layers.InMemoryChannelLayer"}}

# --- Background tasks -----------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Auth, i18n, static, media -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
# Django's ModelBackend, reading each agent's console preferences with the user (no query of
# their own, and a change reaches every session of that agent at its next request). ModelBackend
# stays listed so that sessions signed in before it keep working (they read them with one query).
AUTHENTICATION_BACKENDS = ["preferences.backends.AgentPreferencesBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_REDIRECT_URL = "console:queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env("DJANGO_LANGUAGE_CODE", "en")
# The console's languages: the ones we ship a catalogue for (locale/, the ticket languages of
# HELPDESK_LANGUAGES). LocaleMiddleware picks among these only; names are each language's own.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Django 6.1's blank choice label has no German, French or Spanish translation in Django yet:
# marked here so makemessages keeps it in our catalogues (LOCALE_PATHS win over Django's own).
_DJANGO_STRINGS = [gettext_noop("- Select an option -")]
TIME_ZONE = env("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("HELPDESK_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("HELPDESK_MAX_REQUEST_BYTES", str(30 * 1024 * 1024)))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Django 6 built-in Content-Security-Policy: the console runs no inline script and loads
# nothing from other origins. Untrusted email HTML is framed from our own origin in a sandbox.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF, "ws:", "wss:"],
    "frame-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
}

# --- Email (channels_email; README "Email") ---------------------------------------------------
# Django 6.1 MAILERS (EMAIL_BACKEND & co. are deprecated). HELPDESK_EMAIL_BACKEND: "file"
# (default: var/outbox, works offline), "smtp", "console", or any anymail ESP ("mailgun", ...).
DEFAULT_FROM_EMAIL = env("HELPDESK_FROM_EMAIL", "support@example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_email_backend = env("HELPDESK_EMAIL_BACKEND", "file").strip().lower()
if _email_backend == "file":
    _mailer = {"BACKEND": "django.core.mail.backends.filebased.EmailBackend",
               "OPTIONS": {"file_path": env("HELPDESK_EMAIL_FILE_PATH", str(VAR_DIR / "outbox"))}}
elif _email_backend == "smtp":
    _mailer = {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {
        "host": env("HELPDESK_SMTP_HOST", "localhost"), "port": int(env("HELPDESK_SMTP_PORT", "25")),
        "username": env("HELPDESK_SMTP_USER"), "password": env("HELPDESK_SMTP_PASSWORD"),
        "use_tls": env_bool("HELPDESK_SMTP_STARTTLS"), "use_ssl": env_bool("HELPDESK_SMTP_SSL"),
        "timeout": float(env("HELPDESK_SMTP_TIMEOUT", "30"))}}
elif _email_backend in ("console", "locmem", "dummy"):
    _mailer = {"BACKEND": f"django.core.mail.backends.{_email_backend}.EmailBackend"}
else:
    _mailer = {"BACKEND": f"anymail.backends.{_email_backend}.EmailBackend"}
MAILERS = {"default": _mailer}
# Every ANYMAIL_<NAME> environment variable becomes ANYMAIL["<NAME>"] (MAILGUN_API_KEY,
# MAILGUN_WEBHOOK_SIGNING_KEY, POSTMARK_SERVER_TOKEN, WEBHOOK_SECRET="user:password", ...).
ANYMAIL = {name.removeprefix("ANYMAIL_"): value for name, value in os.environ.items()
           if name.startswith("ANYMAIL_") and value}
# Inbound: one adapter per ESP at /anymail/<esp>/inbound/ and /tracking/ (comma-separated).
HELPDESK_EMAIL_INBOUND_ESPS = env_list("HELPDESK_EMAIL_INBOUND_ESPS")
HELPDESK_EMAIL_OWN_ADDRESSES = env_list("HELPDESK_EMAIL_OWN_ADDRESSES")
HELPDESK_EMAIL_MAX_BYTES = int(env("HELPDESK_EMAIL_MAX_BYTES", str(25 * 1024 * 1024)))
HELPDESK_EMAIL_SENDER_HOURLY_LIMIT = int(env("HELPDESK_EMAIL_SENDER_HOURLY_LIMIT", "20"))
HELPDESK_EMAIL_AUTO_ACK = env_bool("HELPDESK_EMAIL_AUTO_ACK", True)
# The MAILERS entry that sends our outbound mail (replies, acknowledgements, offline chat replies).
HELPDESK_EMAIL_MAILER = env("HELPDESK_EMAIL_MAILER", "default")
# Webhooks whose signature covers a timestamp (Mailgun) are refused when signed longer ago.
HELPDESK_WEBHOOK_MAX_AGE_SECONDS = int(env("HELPDESK_WEBHOOK_MAX_AGE_SECONDS", str(9 * 3600)))
EMAIL_CHANNELS = {
    "email": "channels_email.adapter.EmailAdapter",  # outbound (first "email" adapter = default)
    "email_pipe": "channels_email.adapter.MtaPipeAdapter",  # manage.py ingest_email
    # manage.py import_mbox: history, so Cc participants yes, "we got your message" no.
    "email_import": {"BACKEND": "channels_email.adapter.MtaPipeAdapter", "acknowledge": False},
    **{f"email_{esp}": {"BACKEND": "channels_email.adapter.EmailAdapter", "esp": esp}
       for esp in HELPDESK_EMAIL_INBOUND_ESPS},
}

# --- The helpdesk ---------------------------------------------------------------------------
# Channel name -> adapter class, in the style of EMAIL_BACKEND. `tickets` finds adapters only
# through this setting; it never imports a channel app.
HELPDESK_CHANNELS = {
    # "key": "dotted.path.Adapter" (or {"BACKEND": path, **options}); one line per channel.
    **EMAIL_CHANNELS,
    "chat": "livechat.adapter.ChatAdapter",
    "sms": "channels_sms.adapter.SmsAdapter",
    "whatsapp": "channels_sms.adapter.WhatsAppAdapter",
    # channels_social: one Meta webhook ("meta") feeding three platform adapters, and Telegram.
    "meta": "channels_social.meta.MetaWebhookAdapter",
    "messenger": "channels_social.messenger.MessengerAdapter",
    "instagram": "channels_social.messenger.InstagramAdapter",
    "whatsapp_cloud": "channels_social.whatsapp.WhatsAppCloudAdapter",
    "telegram": "channels_social.telegram.TelegramAdapter",
}
# Callables run after commit with the seqs of new events (assigned once, here):
# - integrations: every event is offered to the outgoing-webhook dispatcher (one task per
#   event, only when an active endpoint exists);
# - routing: asks the worker for a pass (rules, inbox teams, assignment) when routing is set up;
# - notifications: the console's bell (mentions, assignments, replies, SLA and CSAT alerts);
# - customer_pictures: queues a profile-picture fetch for a customer writing on Messenger,
#   Instagram or Telegram (the worker fetches; never on the ingest path).
HELPDESK_EVENT_SINKS = ["integrations.sinks.on_event", "routing.sinks.on_event", "notifications.sinks.on_event",
                        "customer_pictures.sinks.on_event"]
# Callables run INSIDE the change's transaction with its new Event rows (assigned once, here):
# surveys scheduled on a solve, cancelled on a reopen; per-ticket service-level metrics.
HELPDESK_EVENT_HOOKS = ["surveys.sinks.on_events", "service_levels.metrics.on_events"]
# Extra orders of the console's queue (?sort=<key>), offered by apps: key -> dotted path of a
# callable(tickets queryset, limit) -> ticket ids, with a `label` (service_levels adds one).
HELPDESK_QUEUE_ORDERS = {}
# Called in ingest before threading; may consume a message (a survey answer). See tickets/services/inbound.py.
HELPDESK_INBOUND_HOOKS = ["surveys.inbound.intercept"]
# Sections other apps add to the console's customer profile page and to the ticket sidebar:
# callables(customer, user) -> None or {"template", "context"} (tickets/console/profile.py).
HELPDESK_CUSTOMER_PANELS = ["livechat.panels.visitor_context", "surveys.panels.ratings"]
HELPDESK_TICKET_PANELS = ["livechat.panels.visitor_context"]
HELPDESK_EVENT_REPLAY_LIMIT = int(env("HELPDESK_EVENT_REPLAY_LIMIT", "1000"))
HELPDESK_EVENT_RETENTION_DAYS = int(env("HELPDESK_EVENT_RETENTION_DAYS", "30"))
# HTTP views run on this many long-lived threads per server process, each keeping its database
# connection (helpdesk/http_threads.py); 0: Django's new thread (and connection) per request.
# SQLite has one writer at a time, and threads waiting for it sleep in its busy handler: one
# thread measured fastest (bench/webhook_load.py). PostgreSQL's round trips overlap on several,
# but every thread more also fights for the interpreter's lock: on this machine (the database
# on loopback) 1 thread did 187-198 webhooks/s, 2 did 171-183, 4 did 158-159 (CPU 4.3 / 5.4 /
# 6.3 ms each); 2, because a database on another host makes each round trip longer.
HELPDESK_HTTP_THREADS = int(env("HELPDESK_HTTP_THREADS", "1" if _IS_SQLITE else "2"))
# Sockets also look at the event log this often, in case a doorbell was lost (0: never).
HELPDESK_EVENT_POLL_SECONDS = float(env("HELPDESK_EVENT_POLL_SECONDS", "10"))
# Doorbells carry their events up to this many bytes (bigger ones: each socket reads the log).
HELPDESK_DOORBELL_CARRY_BYTES = int(env("HELPDESK_DOORBELL_CARRY_BYTES", "131072"))
# A console socket re-reads its agent's teams and permissions when older than this.
HELPDESK_POLICY_REFRESH_SECONDS = float(env("HELPDESK_POLICY_REFRESH_SECONDS", "30"))
HELPDESK_DELIVERY_MAX_ATTEMPTS = int(env("HELPDESK_DELIVERY_MAX_ATTEMPTS", "6"))
HELPDESK_DELIVERY_BACKOFF_SECONDS = float(env("HELPDESK_DELIVERY_BACKOFF_SECONDS", "10"))
# Region (ISO 3166 alpha-2, e.g. "GB") for phone numbers written without a country code;
# empty: such numbers are refused rather than guessed.
HELPDESK_DEFAULT_REGION = env("HELPDESK_DEFAULT_REGION") or None
HELPDESK_MAX_ATTACHMENT_BYTES = int(env("HELPDESK_MAX_ATTACHMENT_BYTES", str(25 * 1024 * 1024)))
# Availability bounds (README "Availability"): one hostile message must not hold the write lock.
HELPDESK_WEBHOOK_MAX_ITEMS = int(env("HELPDESK_WEBHOOK_MAX_ITEMS", "100"))
# When a webhook is answered: "inline" once its messages are written (the default), "worker"
# once the request is stored and parsed, the messages written in batches by ingest workers
# (tickets/ingest_worker.py). An unknown value is logged and read as inline: a typo never stops
# ingest.
HELPDESK_WEBHOOK_INGEST = env("HELPDESK_WEBHOOK_INGEST", "inline").strip().lower()
if HELPDESK_WEBHOOK_INGEST not in ("inline", "worker"):
    logging.getLogger("helpdesk.settings").warning(
        "HELPDESK_WEBHOOK_INGEST=%r is neither inline nor worker: webhooks are written inline",
        HELPDESK_WEBHOOK_INGEST)
    HELPDESK_WEBHOOK_INGEST = "inline"
# SQLite only: a file where HELPDESK_WEBHOOK_INGEST=worker keeps what it answered, so the server's
# insert does not wait for the ingest worker's write lock (tickets/ingest_spool.py); empty: the
# queue is in the database. A relative path is in VAR_DIR, so that a server and a worker started
# from different directories share one spool.
HELPDESK_INGEST_SPOOL = env("HELPDESK_INGEST_SPOOL", "").strip()
if HELPDESK_INGEST_SPOOL:
    HELPDESK_INGEST_SPOOL = str(VAR_DIR / HELPDESK_INGEST_SPOOL)  # an absolute path stays as it is
if HELPDESK_INGEST_SPOOL and not _IS_SQLITE:
    logging.getLogger("helpdesk.settings").warning(
        "HELPDESK_INGEST_SPOOL is for SQLite; on this database the queue stays in the database")
    HELPDESK_INGEST_SPOOL = ""
HELPDESK_INGEST_BATCH = max(1, int(env("HELPDESK_INGEST_BATCH", "64")))  # payloads per transaction
HELPDESK_INGEST_POLL_MS = max(0, int(env("HELPDESK_INGEST_POLL_MS", "50")))  # idle worker's pause
HELPDESK_HTML_MAX_BYTES = int(env("HELPDESK_HTML_MAX_BYTES", str(2 * 1024 * 1024)))
HELPDESK_HTML_MAX_DEPTH = int(env("HELPDESK_HTML_MAX_DEPTH", "256"))
HELPDESK_HTML_MAX_ELEMENTS = int(env("HELPDESK_HTML_MAX_ELEMENTS", "50000"))
HELPDESK_MAX_CC_PARTICIPANTS = int(env("HELPDESK_MAX_CC_PARTICIPANTS", "50"))

# --- SMS and WhatsApp through Twilio (channels_sms; README "SMS and WhatsApp (Twilio)") ------
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")  # also verifies X-Twilio-Signature on webhooks
TWILIO_TIMEOUT = float(env("TWILIO_TIMEOUT", "10"))  # seconds per Twilio API call
# Senders used only when the customer never wrote to one of our numbers (E.164).
TWILIO_SMS_FROM = env("TWILIO_SMS_FROM")
TWILIO_WHATSAPP_FROM = env("TWILIO_WHATSAPP_FROM")
# Approved WhatsApp templates offered outside the 24-hour window, as JSON:
# [{"id": "HX...", "name": "follow_up", "variables": ["1"]}]
TWILIO_WHATSAPP_TEMPLATES = json.loads(env("TWILIO_WHATSAPP_TEMPLATES", "[]"))
TWILIO_RECEIPT_RETENTION_DAYS = int(env("TWILIO_RECEIPT_RETENTION_DAYS", "7"))

# --- Live chat widget (livechat; README "Live chat") ----------------------------------------
LIVECHAT_TOKEN_MAX_AGE_DAYS = int(env("LIVECHAT_TOKEN_MAX_AGE_DAYS", "180"))  # visitor token life
LIVECHAT_RATE_LIMIT_PER_MINUTE = int(env("LIVECHAT_RATE_LIMIT_PER_MINUTE", "30"))  # sends per visitor
LIVECHAT_MAX_MESSAGE_CHARS = int(env("LIVECHAT_MAX_MESSAGE_CHARS", "5000"))
# A visitor whose page closed longer ago than this gets agent replies by email (if they left one).
LIVECHAT_OFFLINE_GRACE_SECONDS = int(env("LIVECHAT_OFFLINE_GRACE_SECONDS", "20"))
LIVECHAT_VISITOR_TIMEOUT_SECONDS = int(env("LIVECHAT_VISITOR_TIMEOUT_SECONDS", "120"))
LIVECHAT_REPLY_TO = env("LIVECHAT_REPLY_TO")  # Reply-To of offline replies; default HELPDESK_FROM_EMAIL

# --- Social: Messenger, Instagram, WhatsApp Cloud API, Telegram (channels_social; README "Social") --
META_APP_SECRET = env("META_APP_SECRET")  # verifies X-Hub-Signature-256 on /channels/meta/webhook/
META_VERIFY_TOKEN = env("META_VERIFY_TOKEN")  # the token you type when subscribing the webhook
META_PAGE_TOKEN = env("META_PAGE_TOKEN")  # Page access token: Messenger sends (and Instagram's default)
META_INSTAGRAM_TOKEN = env("META_INSTAGRAM_TOKEN")  # token for Instagram sends if not the Page token
META_HUMAN_AGENT_TAG = env_bool("META_HUMAN_AGENT_TAG", False)  # reply up to 7 days (needs Meta approval)
GRAPH_API_URL = env("GRAPH_API_URL", "https://graph.facebook.com")
GRAPH_API_VERSION = env("GRAPH_API_VERSION", "v23.0")
WHATSAPP_CLOUD_TOKEN = env("WHATSAPP_CLOUD_TOKEN")  # system-user token with whatsapp_business_messaging
WHATSAPP_PHONE_NUMBER_ID = env("WHATSAPP_PHONE_NUMBER_ID")  # the business number's Graph id
# Approved templates offered outside the 24-hour window, as JSON:
# [{"id": "order_update", "name": "Order update", "language": "en_US", "variables": ["1"], "text": "..."}]
WHATSAPP_TEMPLATES = json.loads(env("WHATSAPP_TEMPLATES", "[]"))
WHATSAPP_TEMPLATE_LANGUAGE = env("WHATSAPP_TEMPLATE_LANGUAGE", "en_US")
TELEGRAM_BOT_TOKEN = env("TELEGRAM_BOT_TOKEN")
TELEGRAM_SECRET_TOKEN = env("TELEGRAM_SECRET_TOKEN")  # 1-256 of A-Z a-z 0-9 _ -; see telegram_set_webhook
TELEGRAM_API_URL = env("TELEGRAM_API_URL", "https://api.telegram.org")
SOCIAL_HTTP_TIMEOUT = float(env("SOCIAL_HTTP_TIMEOUT", "15"))  # seconds per Meta/Telegram call
SOCIAL_HTTP_CONNECT_TIMEOUT = float(env("SOCIAL_HTTP_CONNECT_TIMEOUT", "5"))

# --- REST API and outgoing webhooks (api, integrations; README "REST API and outgoing webhooks")
# Idempotency-Key responses are replayed for this long, then forgotten.
HELPDESK_API_IDEMPOTENCY_HOURS = int(env("HELPDESK_API_IDEMPOTENCY_HOURS", "24"))
# SSRF guard: webhook URLs resolving to private, loopback, link-local or reserved addresses are
# refused unless this is on (a receiver on the same host or LAN).
HELPDESK_WEBHOOKS_ALLOW_PRIVATE = env_bool("HELPDESK_WEBHOOKS_ALLOW_PRIVATE", False)
HELPDESK_WEBHOOKS_TIMEOUT_SECONDS = float(env("HELPDESK_WEBHOOKS_TIMEOUT_SECONDS", "10"))
HELPDESK_WEBHOOKS_MAX_ATTEMPTS = int(env("HELPDESK_WEBHOOKS_MAX_ATTEMPTS", "8"))
# First retry delay; doubles per attempt (jittered), capped at 6 hours.
HELPDESK_WEBHOOKS_BACKOFF_SECONDS = float(env("HELPDESK_WEBHOOKS_BACKOFF_SECONDS", "30"))

# --- Mailboxes: IMAP in, SMTP out, many support addresses (mailboxes; README "Mailboxes") ---
HELPDESK_CHANNELS = {
    **HELPDESK_CHANNELS,
    "email_mailbox": "mailboxes.adapter.MailboxAdapter",
    # A first sync's backlog: Cc participants yes, "we got your message" no (as import_mbox).
    "email_mailbox_history": {"BACKEND": "mailboxes.adapter.MailboxAdapter", "acknowledge": False},
}
HELPDESK_EMAIL_ADDRESS_SOURCES = ["mailboxes.addresses.own_addresses"]
# Started by `manage.py serve` beside the task worker: callables returning a stop function.
HELPDESK_SERVE_RUNNERS = ["mailboxes.runner.start_in_serve"]
HELPDESK_MAILBOX_RUNNER_IN_SERVE = env_bool("HELPDESK_MAILBOX_RUNNER_IN_SERVE", True)
# Fernet key(s), comma-separated, newest first (manage.py generate_encryption_key).
HELPDESK_ENCRYPTION_KEY = env("HELPDESK_ENCRYPTION_KEY")
HELPDESK_MAILBOX_POLL_SECONDS = float(env("HELPDESK_MAILBOX_POLL_SECONDS", "60"))  # without IDLE
HELPDESK_MAILBOX_IDLE_SECONDS = float(env("HELPDESK_MAILBOX_IDLE_SECONDS", "600"))  # re-IDLE after
HELPDESK_MAILBOX_RETRY_SECONDS = float(env("HELPDESK_MAILBOX_RETRY_SECONDS", "30"))  # first backoff
HELPDESK_MAILBOX_LEASE_SECONDS = float(env("HELPDESK_MAILBOX_LEASE_SECONDS", "90"))
HELPDESK_MAILBOX_TIMEOUT_SECONDS = float(env("HELPDESK_MAILBOX_TIMEOUT_SECONDS", "30"))
HELPDESK_MAILBOX_CA_FILE = env("HELPDESK_MAILBOX_CA_FILE")  # a private CA for IMAP/SMTP TLS
HELPDESK_OAUTH = {
    "google": {"client_id": env("GOOGLE_OAUTH_CLIENT_ID"), "client_secret": env("GOOGLE_OAUTH_CLIENT_SECRET")},
    "microsoft": {"client_id": env("MICROSOFT_OAUTH_CLIENT_ID"),
                  "client_secret": env("MICROSOFT_OAUTH_CLIENT_SECRET"),
                  "tenant": env("MICROSOFT_OAUTH_TENANT", "common")},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("HELPDESK_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

# --- Data rights: export, erasure, retention (privacy; README "Data rights") ------------------
INSTALLED_APPS = [*INSTALLED_APPS, "privacy"]
# Raw provider requests: processed/discarded ones are kept this long, failed/quarantined ones
# (an admin may still replay them) this long.
HELPDESK_PAYLOAD_RETENTION_DAYS = int(env("HELPDESK_PAYLOAD_RETENTION_DAYS", "30"))
HELPDESK_PAYLOAD_UNSETTLED_RETENTION_DAYS = int(env("HELPDESK_PAYLOAD_UNSETTLED_RETENTION_DAYS", "90"))
# The task workers prune once a day at this hour (TIME_ZONE); `manage.py apply_retention` any time.
HELPDESK_RETENTION_DAILY = env_bool("HELPDESK_RETENTION_DAILY", True)
HELPDESK_RETENTION_HOUR = int(env("HELPDESK_RETENTION_HOUR", "3"))
# What the daily run does: management commands, each pruning by its own setting (finished task
# results go after django-tasks-db's default 14 days: a failed task's traceback can quote a customer).
HELPDESK_RETENTION_COMMANDS = [
    "prune_inbound_payloads", "prune_events", "prune_webhook_deliveries", "prune_api_idempotency",
    "prune_twilio_receipts", "prune_db_task_results",
]
# Apps keeping personal data outside `tickets` plug into export and erasure here (README).
HELPDESK_PERSONAL_DATA_PROVIDERS = [
    "livechat.privacy.ChatVisitors",
    "channels_email.privacy.Acknowledgements",
    "integrations.privacy.WebhookDeliveries",
    "api.privacy.IdempotentResponses",
    "surveys.privacy.SurveyAnswers",
    "customer_pictures.privacy.Pictures",
]
# --- Service levels (service_levels; README "Service levels") -------------------------------
# Per-ticket metrics are written in the transaction of each change (HELPDESK_EVENT_HOOKS above).
# The main queue's orders besides its own (longest waiting first): key -> callable(tickets, limit)
# returning ticket ids, with a `label`.
HELPDESK_QUEUE_ORDERS = {**HELPDESK_QUEUE_ORDERS, "deadline": "service_levels.queue.by_next_deadline"}
# --- Routing and automation (routing/; README "Routing and automation") -------------------------
# After each commit the routing sink (HELPDESK_EVENT_SINKS above) asks the worker for a pass.
HELPDESK_ROUTING_AWAY_AFTER_SECONDS = int(env("HELPDESK_ROUTING_AWAY_AFTER_SECONDS", "900"))
HELPDESK_ROUTING_SWEEP_SECONDS = int(env("HELPDESK_ROUTING_SWEEP_SECONDS", "60"))
HELPDESK_ROUTING_AUTO_CLOSE_DAYS = int(env("HELPDESK_ROUTING_AUTO_CLOSE_DAYS", "0"))
# The chat widget's "we're online" follows the online agents of the chat inbox's team.
LIVECHAT_ONLINE_CHECK = "routing.availability.chat_online"
# The queue sidebar labels inbox views by the names routing gives them.
HELPDESK_INBOX_NAMES = "routing.inboxes.names"
# The languages a ticket's language is guessed among (tickets.language); hints may name others.
HELPDESK_LANGUAGES = tuple(x.strip() for x in env("HELPDESK_LANGUAGES", "en,de,fr,es").split(",") if x.strip())
# --- Notifications (notifications/; README "The agent console") -------------------------------
# The bell in the console header: built from the event log after each commit (a sink above).
INSTALLED_APPS = [*INSTALLED_APPS, "notifications"]
TEMPLATES[0]["OPTIONS"]["context_processors"] = [*TEMPLATES[0]["OPTIONS"]["context_processors"],
                                                 "notifications.context.bell"]
# Read notifications older than this are deleted by the daily retention run (unread ones stay).
HELPDESK_NOTIFICATION_RETENTION_DAYS = int(env("HELPDESK_NOTIFICATION_RETENTION_DAYS", "30"))
HELPDESK_RETENTION_COMMANDS = [*HELPDESK_RETENTION_COMMANDS, "prune_notifications"]
# Embedded mode: pushes the notifications other processes (the mail pipe, commands) create.
# Per process, not once per `serve --http-workers` pool: each process's in-memory layer reaches only
# its own sockets, so each relays the notifications it did not push itself.
HELPDESK_SERVE_PROCESS_RUNNERS = ["notifications.relay.start_in_serve"]
# --- Saved views (saved_views/; README "The agent console") -------------------------------------
INSTALLED_APPS = [*INSTALLED_APPS, "saved_views"]
# Apps adding views to the queue's sidebar (tickets.console.queries.view_sources).
HELPDESK_QUEUE_VIEW_SOURCES = ["saved_views.source"]
# --- Customer pictures (customer_pictures/; README "The console's look" -> Avatars) -------------
# After a customer writes on Messenger, Instagram or Telegram, the worker fetches their profile
# picture (an event sink queues it), keeps the bytes under MEDIA_ROOT and serves them to agents.
INSTALLED_APPS = [*INSTALLED_APPS, "customer_pictures"]
# Its sink and privacy provider are in HELPDESK_EVENT_SINKS and HELPDESK_PERSONAL_DATA_PROVIDERS above.
HELPDESK_CUSTOMER_PICTURES = env_bool("HELPDESK_CUSTOMER_PICTURES", True)  # off: initials only, no provider call
HELPDESK_PICTURE_REFRESH_DAYS = int(env("HELPDESK_PICTURE_REFRESH_DAYS", "7"))  # fetched again on a message after
HELPDESK_PICTURE_MAX_BYTES = int(env("HELPDESK_PICTURE_MAX_BYTES", str(1024 * 1024)))  # bigger: not kept
