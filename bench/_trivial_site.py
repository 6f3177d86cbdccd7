"""The project's settings and URLs plus one trivial view, for bench/webhook_load.py: the same
server (middleware, routing, threads) answering a POST of the webhook's own body with 200 and
no work, the "trivial view" issue #20 compares webhooks against.

    DJANGO_SETTINGS_MODULE=bench._trivial_site (also its ROOT_URLCONF)
"""

from helpdesk.settings import *  # noqa: F403

ROOT_URLCONF = "bench._trivial_site_urls"
