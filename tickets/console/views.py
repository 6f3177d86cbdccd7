"""The agent console's pages. Views parse, authorise, read (tickets.console.queries), render.
The POST actions are in tickets.console.actions."""

from collections import Counter
from functools import wraps

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET

from tickets import events, policy, search, services
from tickets.console import activity, avatars, compose, filters, inline_images, queries, rendering
from tickets.console.panels import panels as customer_panels
from tickets.models import Attachment, Event, Identity, Message, Ticket
from tickets.people import customer_name, customer_names
from tickets.policy import can_see_ticket, is_agent


def agent_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        if not is_agent(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _link_bases() -> dict:
    """URL prefixes, so long lists build links by concatenation instead of a reverse() each."""
    return {"console_base": reverse("console:queue"),
            "attachment_base": reverse("attachment", args=[0]).removesuffix("0/")}


@require_GET
@agent_required
def queue(request):
    view = request.GET.get("view", "open")
    if queries.queue_filter(view, request.user) is None:
        view = "open"
    picked = filters.QueueFilter.parse(request.GET)  # the agent's own filters on top of the view
    seq = events.current_seq()  # read before the data: the socket resumes from here
    links = _link_bases()
    orders = queries.queue_orders()
    sort = request.GET.get("sort", "")
    sort = sort if sort in orders and view != "solved" else ""
    tickets = queries.queue_tickets(view, request.user, order=sort, filters=picked)
    views = queries.queue_views(request.user)
    current = next((v for v in views if v.key == view), None)
    context = {
        **links,
        "tickets": tickets,
        "rows": rendering.queue_rows_html(tickets, console_base=links["console_base"], no_subject=_("(no subject)")),
        "views": [v for v in views if not v.source],
        "source_views": [v for v in views if v.source],
        "current_view": current,
        "view": view,
        "sort": sort,
        "orders": [(key, order.label) for key, order in orders.items()] if view != "solved" else [],
        "seq": seq,
        "picked": picked,
    }
    # The live queue re-reads just the list and the counts after an event ("fragment").
    if request.GET.get("fragment"):
        return render(request, "console/_queue_body.html", context)
    # The filter bar's form (its choices cost a query and most of a template) is rendered when
    # filters are in use, else fetched when the agent opens "Filter and sort".
    if not picked.empty or request.GET.get("filters_form"):
        context["filter_choices"] = queries.filter_choices(views)
    if request.GET.get("filters_form"):
        return render(request, "console/_queue_filters_form.html", context)
    # "Save view" saves what the agent sees: the view's own filters, then the picked ones.
    saved = current.extra.get("params", {}) if current is not None and current.source else {}
    form_query = request.GET.copy()
    form_query["filters_form"] = "1"
    context.update(
        queue_parts=[source.template for source in queries.view_sources()],
        save_filters=filters.combined(filters.of_view(view), saved, picked.params()).params(),
        filters_form_query=form_query.urlencode(),
    )
    return render(request, "console/queue.html", context)


@require_GET
@agent_required
def ticket_detail(request, pk):
    if not can_see_ticket(request.user, pk):
        raise PermissionDenied
    seq = events.current_seq()
    ticket = get_object_or_404(Ticket.objects.select_related("customer", "assignee", "team"), pk=pk)
    blocks, truncated, _last_inbound = queries.history(ticket, show_all=request.GET.get("all") == "1",
                                                      user=request.user)
    identities = list(Identity.objects.filter(customer_id=ticket.customer_id)
                      .order_by("channel", "-last_inbound_at", "pk"))
    messages = sorted((m for block in blocks for m in block.messages), key=lambda m: (m.created_at, m.pk))
    channel_options, default_channel = compose.channel_options(identities, messages, ticket)
    canned = [{"title": c.title, "shortcut": c.shortcut,
               "body": compose.fill_placeholders(c.body, ticket=ticket, agent=request.user)}
              for c in queries.canned_responses()]
    services.mark_mentions_read(request.user, ticket.pk)
    links = _link_bases()
    agents, teams = queries.agents(), queries.teams()
    rendering.render_blocks(blocks, names=activity.Names.of(agents, teams), csrf_token=get_token(request), **links)
    return render(request, "console/ticket.html", {
        **links,
        "ticket": ticket, "blocks": blocks, "truncated": truncated, "identities": identities,
        "customer_name": customer_name(ticket.customer.name, identities, ticket.customer_id),
        "customer_picture": avatars.picture_of(identities),
        "activity_kinds": " ".join(activity.ACTIVITY_KINDS),
        "panels": customer_panels(ticket.customer, request.user, "HELPDESK_TICKET_PANELS", identities),
        "seq": seq, "agents": agents, "teams": teams,
        "statuses": Ticket.Status.choices, "priorities": Ticket.Priority.choices,
        "tags": [t.name for t in ticket.tags.all()],
        "other_tickets": queries.other_tickets(ticket, request.user), "merges": [m for m in queries.open_merges(ticket.customer_id) if policy.can_undo_merge(request.user, m)],
        "channel_options": channel_options, "default_channel": default_channel, "canned": canned,
        "email_recipients": services.email_recipients(ticket),
        "draft": request.session.pop(f"draft-{pk}", ""),
        # The forms only; each action asks the policy again with the customers it touches.
        "may_change_customers": policy.can_change_customers(request.user),
    })


FRAGMENT_MAX_ITEMS = 200  # ids one request may ask for; a console asks for a few at a time


def _ids(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip().isdigit()][:FRAGMENT_MAX_ITEMS]


@require_GET
@agent_required
def timeline_fragment(request, pk):
    """The timeline items a live console was told about (?m=<message ids>&a=<event seqs>),
    rendered by the same code as the page (rendering.py), with the headers of their tickets.
    Only the customer's items on tickets this agent may see; a constant number of queries."""
    if not can_see_ticket(request.user, pk):
        raise PermissionDenied
    ticket = get_object_or_404(Ticket.objects.only("pk", "customer_id"), pk=pk)
    scope = policy.visible_tickets(request.user, prefix="ticket__")
    message_ids, seqs = _ids(request.GET.get("m", "")), _ids(request.GET.get("a", ""))
    messages = queries.timeline_messages(Message.objects.filter(
        scope, pk__in=message_ids, customer_id=ticket.customer_id).order_by("created_at", "pk")) if message_ids else []
    lines = []
    if seqs:
        visible = (Ticket.objects.filter(policy.visible_tickets(request.user), customer_id=ticket.customer_id,
                                         pk__in=Event.objects.filter(seq__in=seqs).values("ticket_id"))
                   .values_list("pk", flat=True))
        lines = queries.activity(ticket.customer_id, list(visible), seqs=seqs)
    items = [*messages, *lines]
    counts = Counter(m.ticket_id for m in messages)
    heads = Ticket.objects.filter(pk__in={i.ticket_id for i in items if i.ticket_id}).only(
        "id", "subject", "status", "channel") if items else []
    names = activity.Names.of(queries.agents(), queries.teams()) if lines else activity.Names({}, {})
    return JsonResponse(rendering.fragments(items, [(t, counts[t.pk]) for t in heads], names=names,
                                            csrf_token=get_token(request), **_link_bases()))


@require_GET
@agent_required
def compose_info(request, pk):
    """The selected channel's constraints for the text typed so far (SMS segments, the
    WhatsApp window and templates, ...), asked for as the agent types."""
    if not can_see_ticket(request.user, pk):
        raise PermissionDenied
    ticket = get_object_or_404(Ticket, pk=pk)
    channel = request.GET.get("channel", "")
    identity = (Identity.objects.filter(customer_id=ticket.customer_id, channel=channel)
                .order_by("-last_inbound_at", "-pk").first())
    if identity is None:
        raise Http404
    recent = Message.objects.filter(customer_id=ticket.customer_id, identity=identity,
                                    direction=Message.Direction.INBOUND).order_by("-pk")[:1]
    key = compose.adapter_key_for(identity, list(recent))
    return JsonResponse({"channel": channel, "info": compose.compose_info(identity, key, request.GET.get("text", ""))})


@require_GET
@agent_required
def search_view(request):
    # Read before the results, like every page with a live socket: without it the page resumed
    # from 0 and, once the log held more than HELPDESK_EVENT_REPLAY_LIMIT events, reloaded forever.
    seq = events.current_seq()
    results = search.search(request.GET.get("q", ""), user=request.user)
    number = search.ticket_to_open(results.query, results)
    if number is not None:  # "#123": straight to the ticket (search only returns visible ones)
        return redirect("console:ticket", pk=number)
    for c in results.customers:  # identities are prefetched: no query
        c.display = customer_name(c.name, c.identities.all(), c.pk)
    names = customer_names((t.customer_id, t.customer.name) for t in results.tickets)
    for t in results.tickets:
        t.customer_display = names[t.customer_id]
    return render(request, "console/search.html", {"results": results, "q": results.query, "seq": seq})


# An email body is framed, never inlined: its own document with no script, no same-origin
# (sandbox), nothing loaded from anywhere unless the agent asked for its remote images; only
# its own inline (cid:) images, from our signed inline image URLs (added per request).
EMAIL_CSP = {"default-src": ["'none'"], "style-src": ["'unsafe-inline'"], "img-src": ["data:"],
             "sandbox": [""], "frame-ancestors": ["'self'"], "base-uri": ["'none'"], "form-action": ["'none'"]}
EMAIL_CSP_WITH_IMAGES = {**EMAIL_CSP, "img-src": ["data:", "https:", "http:"]}


@require_GET
@agent_required
@xframe_options_sameorigin
def message_body(request, pk):
    message = get_object_or_404(Message.objects.only("pk", "ticket_id", "html"), pk=pk)
    if not can_see_ticket(request.user, message.ticket_id):
        raise PermissionDenied
    images = request.GET.get("images") == "1"
    html = inline_images.rewrite(message.html, message_id=message.pk, user_id=request.user.pk)
    document = ('<!doctype html><html><head><meta charset="utf-8"><base target="_blank">'
                '<style>body{font:14px/1.45 system-ui,sans-serif;margin:0;word-wrap:break-word}'
                'img{max-width:100%}</style></head><body>' + html + "</body></html>")
    response = HttpResponse(document, content_type="text/html; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"  # its image URLs expire
    policy = EMAIL_CSP_WITH_IMAGES if images else EMAIL_CSP
    # An absolute source matches by URL alone; what 'self' means in a sandboxed (opaque-origin)
    # document has differed between CSP versions and browsers.
    own = {**policy, "img-src": [*policy["img-src"], request.build_absolute_uri(inline_images.url_prefix())]}
    return csp_override(own)(lambda r: response)(request)


def _readable_attachment(user, pk) -> Attachment:
    """Attachment `pk` if `user` may see its ticket (else 403) and its file is here (else 404)."""
    attachment = get_object_or_404(Attachment.objects.select_related("message"), pk=pk)
    if not can_see_ticket(user, attachment.message.ticket_id):
        raise PermissionDenied
    if attachment.state != Attachment.State.STORED or not attachment.file:
        raise Http404
    return attachment


def _untrusted_file_headers(response) -> None:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"


@agent_required
def download_attachment(request, pk):
    """Untrusted files never render in our origin: always a download, never sniffed, sandboxed."""
    attachment = _readable_attachment(request.user, pk)
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                            content_type="application/octet-stream")
    _untrusted_file_headers(response)
    return response


@require_GET
def inline_image(request, pk, token):
    """An inline email image, for the sandboxed body frame: authorised by the signed token of
    the URL (the frame's request carries no session cookie, see tickets.console.inline_images)
    and served only as a raster image recognised from its bytes; anything else (SVG, HTML, PDF,
    a mislabelled file) stays a download."""
    user_id = inline_images.token_user_id(pk, token)
    if user_id is None:
        raise PermissionDenied
    user = get_user_model().objects.filter(pk=user_id).first()
    attachment = _readable_attachment(user, pk)
    handle = attachment.file.open("rb")
    content_type = inline_images.sniff_image(handle.read(inline_images.SNIFF_BYTES))
    if content_type is None:
        handle.close()
        raise Http404
    handle.seek(0)
    response = FileResponse(handle, content_type=content_type, filename=attachment.filename)
    _untrusted_file_headers(response)
    patch_cache_control(response, private=True, max_age=inline_images.INLINE_URL_MAX_AGE)
    return response
