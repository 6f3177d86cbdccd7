"""The console's two long lists, queue rows and the timeline, as HTML built in Python.

These are the hot loops: on this project's machines each template variable costs ~15 us, so a
50-row queue or a 200-message timeline through the template engine took longer than every
query of the page together. Plain string building with the standard library's escape() is an
order of magnitude faster. Everything interpolated is escaped here; the page around the lists
stays in templates.

This is the ONE place a timeline item's markup is built: the ticket page renders it on load,
and a live console asks the timeline fragment view (views.timeline_fragment) for the items new
events name, rendered here too, and inserts them as they are (console.js builds none itself).
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tickets.console.activity import Names, describe
from tickets.console.avatars import avatar_html
from tickets.console.icons import channel_html
from tickets.console.timefmt import TimeFormatter


def _labels() -> dict[str, str]:
    return {"retry": escape(_("Retry")), "move": escape(_("Move")), "email": escape(_("Email content")),
            "images": escape(_("Show remote images")), "folded": escape(_("Show quoted text")),
            "html_dropped": escape(_("The formatted (HTML) version was not kept: %(reason)s. Showing the text.")),
            "collision": escape(_("Reuses the id of another sender's message: kept as a separate message.")),
            "automated": escape(_("automatic")), "no_subject": escape(_("(no subject)")),
            "time": TimeFormatter()}  # one clock and zone for the whole list (timefmt)


def _time(moment) -> str:
    return TimeFormatter().html(moment)  # the console's one date formatter (timefmt, time.js)


def system_note_html(m) -> str:
    """A note nobody typed (a survey sent or skipped, a rating, what a rule did): one compact
    line, like the activity read from the event log, but kept with the ticket for good."""
    who = f'<strong>{escape(m.author_name)}</strong> ' if m.author_name else ""
    return (f'<li class="activity system-note" id="m{m.pk}" data-message="{m.pk}" data-ticket="{m.ticket_id}">'
            f'<span class="what">{who}{escape(m.text)}</span> {_time(m.created_at)}</li>')


def activity_html(line, *, names: Names, ticket_id=None) -> str:
    """One event's line (tickets.console.activity), or "" when it makes none."""
    text = describe(line.kind, line.data, names, ticket_id=line.ticket_id)
    if not text:
        return ""
    kind = escape(line.kind.replace(".", "-"))
    return (f'<li class="activity {kind}" id="a{line.seq}" data-seq="{line.seq}" '
            f'data-ticket="{line.ticket_id or ticket_id or ""}"><span class="what">{escape(text)}</span> '
            f'{_time(line.created_at)}</li>')


def block_head_html(ticket, count: int, *, console_base: str, labels: dict) -> str:
    """A ticket's header in the customer's history: once per ticket."""
    status = escape(str(ticket.get_status_display()))
    messages = escape(ngettext("%(n)s message", "%(n)s messages", count) % {"n": count})
    # No link inside: a summary is a control already (the "Open ticket" link sits beside it).
    return (f'<span class="block-number">#{ticket.pk}</span> '
            f'<span class="block-subject">{escape(ticket.subject) or labels["no_subject"]}</span> · '
            f'{channel_html(ticket.channel)} · '
            f'<span class="block-status status-{escape(ticket.status)}">{status}</span> · '
            f'<span class="block-count">{messages}</span>')


def message_html(m, *, console_base: str, attachment_base: str, csrf_token: str, labels: dict) -> str:
    if getattr(m, "is_system_note", False):
        return system_note_html(m)
    mid = m.pk
    parts = [f'<li class="msg {escape(m.direction)}" id="m{mid}" data-message="{mid}" data-ticket="{m.ticket_id}" '
             f'tabindex="-1"><div class="meta">{channel_html(m.channel)} '
             f'<strong>{escape(m.author_name)}</strong> {labels["time"].html(m.created_at)}']
    if m.direction == "outbound":
        status = escape(m.status)
        parts.append(f' <span class="delivery" data-status="{status}">{status}</span> '
                     f'<span class="error-reason">{escape(m.error_message)}</span>')
        if m.status == "failed":
            parts.append(f' <form method="post" action="{console_base}messages/{mid}/retry/" class="inline retry">'
                         f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
                         f'<button>{labels["retry"]}</button></form>')
    if getattr(m, "automated", ""):  # a survey or a rule's message, not an agent's reply
        parts.append(f' <span class="automated" data-reason="{escape(m.automated)}">{labels["automated"]}</span>')
    if getattr(m, "id_collision", False):  # see services.inbound._deduplicate
        parts.append(f' <em class="warn id-collision">{labels["collision"]}</em>')
    parts.append(f' <button type="button" class="linkish move-button">{labels["move"]}</button></div>')
    if m.subject:
        parts.append(f'<div class="subject-line">{escape(m.subject)}</div>')
    if m.html:
        body = f"{console_base}messages/{mid}/body/"
        parts.append(f'<iframe class="email-html" sandbox="" referrerpolicy="no-referrer" title="{labels["email"]}" '
                     f'src="{body}"></iframe>')
        if m.has_remote_images:
            parts.append(f'<button type="button" class="linkish load-images" data-src="{body}?images=1">'
                         f'{labels["images"]}</button>')
    else:
        parts.append(f'<div class="text">{escape(m.text)}</div>')
    folded = m.folded_text
    if folded:  # the quoted history and signature split off an email, one click away
        parts.append(f'<details class="folded"><summary>{labels["folded"]}</summary>'
                     f'<div class="text">{escape(folded)}</div></details>')
    dropped = getattr(m, "html_dropped", "")
    if dropped:
        parts.append(f'<div class="notice html-dropped">{labels["html_dropped"] % {"reason": escape(dropped)}}</div>')
    files = getattr(m, "files", ())
    if files:
        parts.append('<div class="attachments">')
        for a in files:
            name = escape(a.filename)
            if a.state == "stored":
                parts.append(f'<a class="attachment" href="{attachment_base}{a.pk}/">{name}</a>')
            else:
                parts.append(f'<span class="attachment {escape(a.state)}" title="{escape(a.error)}">{name} '
                             f'({escape(a.state)})</span>')
        parts.append("</div>")
    parts.append("</li>")
    return "".join(parts)


def item_html(item, *, names: Names, labels: dict, ticket_id=None, **links) -> str:
    """A timeline item: a message (TimelineMessage) or an activity line (queries.Activity)."""
    if hasattr(item, "seq"):
        return activity_html(item, names=names, ticket_id=ticket_id)
    return message_html(item, labels=labels, **links)


def _items_html(items, *, names: Names, labels: dict, ticket_id, console_base, attachment_base, csrf_token) -> str:
    """item_html() over a block, without a call through **links per item (the page's hot loop)."""
    return "".join(activity_html(item, names=names, ticket_id=ticket_id) if hasattr(item, "seq") else
                   message_html(item, console_base=console_base, attachment_base=attachment_base,
                                csrf_token=csrf_token, labels=labels) for item in items)


def render_blocks(blocks, *, names: Names, console_base: str, attachment_base: str, csrf_token: str) -> None:
    """Give each timeline block its header (block.head) and items' HTML (block.html)."""
    labels = _labels()
    links = {"console_base": console_base, "attachment_base": attachment_base, "csrf_token": csrf_token}
    for block in blocks:
        block.head = mark_safe(block_head_html(block.ticket, len(block.messages), console_base=console_base,  # noqa: S308
                                               labels=labels))
        block.html = mark_safe(_items_html(  # noqa: S308 - every value above went through escape()
            block.items, names=names, labels=labels, ticket_id=block.ticket.pk, **links))


def fragments(items, tickets, *, names: Names, console_base: str, attachment_base: str, csrf_token: str) -> dict:
    """What a live console inserts: each item's HTML keyed by its element id, and the header
    of each ticket they belong to (for a ticket new on the page)."""
    labels = _labels()
    links = {"console_base": console_base, "attachment_base": attachment_base, "csrf_token": csrf_token}
    out = {"items": [], "heads": {}}
    for item in items:
        key = f"a{item.seq}" if hasattr(item, "seq") else f"m{item.pk}"
        out["items"].append({"key": key, "ticket": item.ticket_id,
                             "html": item_html(item, names=names, labels=labels, **links)})
    for ticket, count in tickets:
        out["heads"][str(ticket.pk)] = block_head_html(ticket, count, console_base=console_base, labels=labels)
    return out


def queue_rows_html(rows, *, console_base: str, no_subject: str) -> str:
    """The queue table's rows (tickets.console.queries.QueueRow)."""
    parts = []
    clock = TimeFormatter()
    for t in rows:
        href = f"{console_base}tickets/{t.pk}/"
        tags = "".join(f' <span class="tag">{escape(tag)}</span>' for tag in t.tags)
        parts.append(
            f'<tr data-ticket="{t.pk}" data-href="{href}"><td class="number"><a href="{href}">{t.pk}</a></td>'
            f'<td class="subject"><a href="{href}">{escape(t.subject or no_subject)}</a>{tags}</td>'
            f'<td class="customer">{avatar_html(t.customer, t.picture, size="sm")}<a href="{console_base}customers/{t.customer_id}/">{escape(t.customer)}</a></td>'
            f'<td class="channel-cell">{channel_html(t.channel)}</td>'
            f'<td class="status"><span class="badge st-{escape(t.status)}">{escape(t.status_label)}</span></td>'
            f'<td class="priority p{int(t.priority)}">{escape(t.priority_label)}</td>'
            f'<td class="assignee{"" if t.assignee else " none"}">{escape(t.assignee or "—")}</td>'
            f'<td class="waiting">{clock.html(t.waiting_since, cls="waited")}</td></tr>')
    return mark_safe("".join(parts))  # noqa: S308 - every value above went through escape()
