"""The console's visual primitives for templates: {% icon %}, {% channel %}, {% avatar %},
{% when %}. The long lists (queue rows, timeline) call the same functions from
tickets.console.rendering; live rows get the same markup from console/ui.js and time.js."""

from django import template
from django.utils.safestring import mark_safe

from tickets.console import avatars, icons, timefmt

register = template.Library()


@register.simple_tag
def icon(name, label=""):
    """{% icon "search" %} (decorative) or {% icon "email" label=_("Email") %} (announced)."""
    return mark_safe(icons.icon_html(str(name), label=str(label)))  # noqa: S308 - icon_html escapes


@register.simple_tag
def channel(name, named=True):
    """{% channel ticket.channel %}: the channel's icon, named for screen readers and on hover
    ({% channel key named=False %}: decorative, where its name is written beside it)."""
    return mark_safe(icons.channel_html(str(name), bool(named)))  # noqa: S308 - channel_html escapes


@register.filter
def channel_label(key):
    """{{ identity.channel|channel_label }}: "WhatsApp", "Live chat" (icons.CHANNEL_LABELS)."""
    return icons.channel_label(str(key))


@register.simple_tag
def avatar(name, picture="", size=""):
    """{% avatar customer.name picture size="lg" %}: the picture we hold, else initials."""
    return mark_safe(avatars.avatar_html(str(name), picture or "", size=size))  # noqa: S308 - escaped


@register.filter
def picture(identities):
    """{% avatar c.display c.identities.all|picture %}: the first picture among identities
    already loaded with the customer (search prefetches them), no query of its own."""
    return avatars.picture_of(identities)


@register.simple_tag(takes_context=True)
def when(context, moment, cls=""):
    """{% when message.created_at %}: relative time, the exact one on hover (timefmt). One
    formatter (one "now", one zone) serves the whole page being rendered."""
    clock = context.render_context.get("console_ui.clock")
    if clock is None:
        clock = context.render_context["console_ui.clock"] = timefmt.TimeFormatter()
    return mark_safe(clock.html(moment, cls=cls))  # noqa: S308 - html() escapes


# The queue's views rail: which icon and which heading each kind of view gets.
FIXED_VIEW_ICONS = {"unassigned": "inbox", "mine": "user", "open": "users", "pending": "clock", "solved": "check"}


@register.simple_tag
def view_icon(key):
    kind, _, rest = str(key).partition(":")
    if kind == "channel":
        return mark_safe(icons.icon_html(icons.CHANNEL_ICONS.get(rest, "channel")))  # noqa: S308 - escaped
    name = {"team": "users", "inbox": "inbox"}.get(kind) if rest else FIXED_VIEW_ICONS.get(kind, "inbox")
    return mark_safe(icons.icon_html(name or "inbox"))  # noqa: S308 - icon_html escapes


@register.simple_tag
def view_groups(views):
    """[(heading, [view, ...]), ...]: the fixed views, then channels, teams and inboxes."""
    from django.utils.translation import gettext as _

    headings = {"": "", "channel": _("Channels"), "team": _("Teams"), "inbox": _("Inboxes")}
    groups: dict[str, list] = {}
    for view in views:
        kind = view.key.partition(":")[0] if ":" in view.key else ""
        if kind == "channel":
            view.label = icons.channel_label(view.key.partition(":")[2])
        groups.setdefault(kind, []).append(view)
    return [(headings.get(kind, kind), items) for kind, items in groups.items()]
