"""The console's two long lists, queue rows and timeline messages, as HTML built in Python.

These are the hot loops: on this project's machines each template variable costs ~15 us, so a
50-row queue or a 200-message timeline through the template engine took longer than every
query of the page together. Plain string building with the standard library's escape() is an
order of magnitude faster. Everything interpolated is escaped here; the page around the lists
stays in templates. The message markup mirrors what console.js builds for live messages
(messageNode), so keep the two in step.
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from tickets.console.avatars import avatar_html
from tickets.console.icons import channel_html
from tickets.console.timefmt import TimeFormatter


def _labels() -> dict[str, str]:
    return {"retry": escape(_("Retry")), "move": escape(_("Move")), "email": escape(_("Email content")),
            "images": escape(_("Show remote images")), "folded": escape(_("Show quoted text")),
            "html_dropped": escape(_("The formatted (HTML) version was not kept: %(reason)s. Showing the text.")),
            "collision": escape(_("Reuses the id of another sender's message: kept as a separate message.")),
            "time": TimeFormatter()}  # one clock and zone for the whole list (timefmt)


def message_html(m, *, console_base: str, attachment_base: str, csrf_token: str, labels: dict) -> str:
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


def render_blocks(blocks, *, console_base: str, attachment_base: str, csrf_token: str) -> None:
    """Give each timeline block its messages' HTML (block.html), ready for the template."""
    labels = _labels()
    for block in blocks:
        block.html = mark_safe("".join(  # noqa: S308 - every value above went through escape()
            message_html(m, console_base=console_base, attachment_base=attachment_base,
                         csrf_token=csrf_token, labels=labels) for m in block.messages))



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
            f'<td class="customer">{avatar_html(t.customer, size="sm")}<span>{escape(t.customer)}</span></td>'
            f'<td class="channel-cell">{channel_html(t.channel)}</td>'
            f'<td class="status"><span class="badge st-{escape(t.status)}">{escape(t.status_label)}</span></td>'
            f'<td class="priority p{int(t.priority)}">{escape(t.priority_label)}</td>'
            f'<td class="assignee{"" if t.assignee else " none"}">{escape(t.assignee or "—")}</td>'
            f'<td class="waiting">{clock.html(t.waiting_since, cls="waited")}</td></tr>')
    return mark_safe("".join(parts))  # noqa: S308 - every value above went through escape()
