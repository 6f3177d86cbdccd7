"""The console's icons: one SVG sprite (console/icons.svg, built by tools/build_icons.py from
Lucide and Simple Icons), referenced with <svg><use href="sprite#i-NAME"></svg>.

One definition of which icon stands for which channel: CHANNEL_ICONS here, mirrored by
console/ui.js for rows rendered live. An icon is decorative (aria-hidden) unless it is given a
label, in which case it carries role="img" and the label, so a channel is never colour or shape
alone for a screen reader."""

from functools import cache
from html import escape

from django.templatetags.static import static
from django.utils.translation import get_language, gettext_lazy

# channel (Message.channel / Identity.channel) -> sprite name
CHANNEL_ICONS = {"email": "email", "sms": "sms", "whatsapp": "whatsapp", "messenger": "messenger",
                 "instagram": "instagram", "telegram": "telegram", "chat": "chat"}
# Brand names stay as they are; the two generic words are translated (lazily: read per request).
CHANNEL_LABELS = {"email": gettext_lazy("Email"), "sms": "SMS", "whatsapp": "WhatsApp", "messenger": "Messenger",
                  "instagram": "Instagram", "telegram": "Telegram", "chat": gettext_lazy("Live chat")}


@cache
def sprite_url() -> str:
    return static("console/icons.svg")


def icon_html(name: str, *, label: str = "", cls: str = "") -> str:
    """An inline <svg> using the sprite's symbol `name` (escaped; an unknown name draws nothing)."""
    classes = f"icon i-{escape(name)}" + (f" {escape(cls)}" if cls else "")
    a11y = f' role="img" aria-label="{escape(label)}"' if label else ' aria-hidden="true"'
    return (f'<svg class="{classes}"{a11y} focusable="false">'
            f'<use href="{sprite_url()}#i-{escape(name)}"></use></svg>')


def channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))


def channel_html(channel: str, named: bool = True) -> str:
    """A channel as its icon with its name for assistive tech and on hover (cached: one string
    per channel and language, reused by every row of the hot lists). `named=False` where the
    channel's name is written beside it (the reply box's picker): the icon is then decoration."""
    return _channel_html(channel, named, get_language())


@cache
def _channel_html(channel: str, named: bool, language: str | None) -> str:
    name = CHANNEL_ICONS.get(channel, "channel")
    if not named:
        return f'<span class="channel ch-{escape(channel)}">{icon_html(name)}</span>'
    label = escape(channel_label(channel))
    return (f'<span class="channel ch-{escape(channel)}" title="{label}">'
            f'{icon_html(name, label=channel_label(channel))}</span>')

