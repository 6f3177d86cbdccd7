"""The agent console. Views parse, authorise, call one service, render."""

from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import F, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets import events, services
from tickets.models import Attachment, Message, Ticket
from tickets.permissions import can_see_ticket, is_agent


def agent_required(view):
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        if not is_agent(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


QUEUE_VIEWS = {
    "open": {"status__in": Ticket.ACTIVE_STATUSES},
    "unassigned": {"status__in": Ticket.ACTIVE_STATUSES, "assignee__isnull": True},
    "mine": {"status__in": Ticket.ACTIVE_STATUSES},  # + assignee=request.user
    "pending": {"status": Ticket.Status.PENDING},
    "solved": {"status": Ticket.Status.SOLVED},
}


@agent_required
def queue(request):
    view = request.GET.get("view", "open")
    filters = dict(QUEUE_VIEWS.get(view, QUEUE_VIEWS["open"]))
    if view == "mine":
        filters["assignee"] = request.user
    seq = events.current_seq()  # read before the data: the socket resumes from here
    tickets = (
        Ticket.objects.filter(**filters)
        .select_related("customer", "assignee")
        .order_by(F("waiting_since").asc(nulls_last=True), "-updated_at")[:100]
    )
    return render(request, "console/queue.html", {"tickets": tickets, "view": view, "seq": seq,
                                                  "views": list(QUEUE_VIEWS)})


@agent_required
def ticket_detail(request, pk):
    if not can_see_ticket(request.user, pk):
        raise PermissionDenied
    seq = events.current_seq()
    ticket = get_object_or_404(Ticket.objects.select_related("customer", "assignee", "team"), pk=pk)
    history = (
        Message.objects.filter(customer=ticket.customer)
        .select_related("ticket")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )
    identities = list(ticket.customer.identities.order_by("channel", "address"))
    agents = get_user_model().objects.filter(is_active=True).order_by("username")
    return render(request, "console/ticket.html", {
        "ticket": ticket, "history": history, "identities": identities, "seq": seq,
        "agents": agents, "statuses": Ticket.Status.choices,
        "channels": sorted({i.channel for i in identities}),
    })


def _ticket_for_write(request, pk):
    if not can_see_ticket(request.user, pk):
        raise PermissionDenied
    return get_object_or_404(Ticket, pk=pk)


@require_POST
@agent_required
def post_reply(request, pk):
    ticket = _ticket_for_write(request, pk)
    seen = request.POST.get("seen_seq")
    try:
        services.reply(
            ticket, author=request.user, text=request.POST.get("text", ""),
            channel=request.POST.get("channel") or None,
            client_id=request.POST.get("client_id") or None,
            subject=request.POST.get("subject", ""),
            seen_seq=int(seen) if seen and seen.isdigit() else None,
        )
    except services.StaleReply as stale:
        flash.warning(request, stale.reason)
        request.session[f"draft-{pk}"] = request.POST.get("text", "")
    except services.ReplyRefused as refused:
        flash.error(request, refused.reason)
    return redirect("console:ticket", pk=pk)


@require_POST
@agent_required
def post_note(request, pk):
    ticket = _ticket_for_write(request, pk)
    try:
        services.note(ticket, author=request.user, text=request.POST.get("text", ""),
                      client_id=request.POST.get("client_id") or None)
    except services.ReplyRefused as refused:
        flash.error(request, refused.reason)
    return redirect("console:ticket", pk=pk)


@require_POST
@agent_required
def post_status(request, pk):
    ticket = _ticket_for_write(request, pk)
    try:
        services.set_status(ticket, request.POST.get("status", ""), actor=request.user)
    except ValueError:
        flash.error(request, _("Unknown status."))
    return redirect("console:ticket", pk=pk)


@require_POST
@agent_required
def post_assign(request, pk):
    ticket = _ticket_for_write(request, pk)
    assignee_id = request.POST.get("assignee")
    assignee = get_user_model().objects.filter(pk=assignee_id).first() if assignee_id else None
    services.assign(ticket, assignee=assignee, actor=request.user)
    return redirect("console:ticket", pk=pk)


@require_POST
@agent_required
def post_retry(request, pk):
    message = get_object_or_404(Message, pk=pk, direction=Message.Direction.OUTBOUND)
    if not can_see_ticket(request.user, message.ticket_id):
        raise PermissionDenied
    services.retry_delivery(message, actor=request.user)
    return redirect("console:ticket", pk=message.ticket_id)


@agent_required
def download_attachment(request, pk):
    """Untrusted files never render in our origin: always a download, never sniffed, sandboxed."""
    attachment = get_object_or_404(Attachment.objects.select_related("message"), pk=pk)
    if not can_see_ticket(request.user, attachment.message.ticket_id):
        raise PermissionDenied
    if attachment.state != Attachment.State.STORED or not attachment.file:
        raise Http404
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                            content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
