"""What the console calls an inbox: its name (HELPDESK_INBOX_NAMES names this function, so the
queue sidebar of `tickets` shows "Sales" rather than "sales@example.com" without importing
routing)."""

from routing.models import Inbox


def names() -> dict[str, str]:
    """{inbox key: name} for every named inbox (one query)."""
    return dict(Inbox.objects.values_list("key", "name"))
