"""Sections other apps add beside a customer, named in settings so `tickets` imports no app:
HELPDESK_CUSTOMER_PANELS (the customer profile page) and HELPDESK_TICKET_PANELS (the ticket
page's sidebar). Each entry is a dotted path to a callable(customer, user, identities=None) returning None or
{"template": ..., "context": {...}}; the template is included with `panel` set to the context.
A panel must cost a fixed number of queries: both pages assert their query counts."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string


def panels(customer, user, setting: str = "HELPDESK_CUSTOMER_PANELS", identities=None) -> list[dict]:
    """The sections the apps named in `setting` have for this customer (the ticket sidebar
    asks HELPDESK_TICKET_PANELS). `identities`: the customer's, when the page loaded them
    already; passed on as a keyword, so a panel about one channel can skip its query."""
    found = []
    for path in getattr(settings, setting, ()):
        panel = import_string(path)(customer, user, identities=identities)
        if panel:
            found.append(panel)
    return found
