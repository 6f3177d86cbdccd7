"""Whether the widget says "we're online". By default: some agent has a console open. An app
that knows more (routing: the online agents of the chat inbox's team) names its check in
LIVECHAT_ONLINE_CHECK, a dotted path to `check(inbox_key) -> bool`; livechat imports no such
app. Asked when a visitor connects and on every ping (30 s), so the widget follows it live."""

from django.conf import settings
from django.utils.module_loading import import_string

from tickets import presence


def is_online(inbox_key: str) -> bool:
    check = getattr(settings, "LIVECHAT_ONLINE_CHECK", "")
    if check:
        return bool(import_string(check)(inbox_key))
    return presence.agents_online() > 0
