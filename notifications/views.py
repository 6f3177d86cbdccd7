"""The bell's routes. Parse, authorise, call one service, render."""

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from notifications import services
from notifications.models import Notification
from tickets.console.views import agent_required
from tickets.policy import can_see_ticket


@require_GET
@agent_required
def notification_list(request):
    items = services.recent(request.user, limit=100)
    return render(request, "notifications/list.html", {"items": items})


@require_GET
@agent_required
def recent(request):
    """The dropdown's contents and the unread count (also re-read after a reconnect)."""
    return JsonResponse({"unread": services.unread_count(request.user), "items": services.recent(request.user)})


@require_POST
@agent_required
def mark_read(request):
    """ids=1&ids=2: those; ticket=ID: that ticket's; all=1: every one."""
    try:
        ids = [int(i) for i in request.POST.getlist("ids")]
        ticket = int(request.POST["ticket"]) if request.POST.get("ticket") else None
    except ValueError:
        return JsonResponse({"ok": False, "error": "ids and ticket must be integers"}, status=400)
    if not ids and ticket is None and request.POST.get("all") != "1":
        return JsonResponse({"ok": False, "error": "say which: ids, ticket or all=1"}, status=400)
    changed = services.mark_read(request.user, ids=ids or None, ticket_id=ticket)
    return JsonResponse({"ok": True, "marked": changed, "unread": services.unread_count(request.user)})


@require_GET
@agent_required
def open_notification(request, pk):
    """Follow a notification: it is read now, and the ticket opens (where the note is, for a
    mention or a reply)."""
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    if not can_see_ticket(request.user, notification.ticket_id):
        raise PermissionDenied
    services.mark_read(request.user, ids=[notification.pk])
    anchor = f"#m{notification.message_id}" if notification.message_id else ""
    return redirect(f"/console/tickets/{notification.ticket_id}/{anchor}")
