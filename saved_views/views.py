"""Saving, changing and deleting queue views: parse, authorise, call one service, answer."""

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from saved_views import services
from saved_views.models import SavedView
from tickets.console.filters import QueueFilter
from tickets.console.views import agent_required

log = logging.getLogger(__name__)


def _queue(view_id=None):
    url = reverse("console:queue")
    return redirect(f"{url}?view=saved:{view_id}" if view_id else url)


def _fail(request, error):
    log.info("saved view refused for %s: %s", request.user.pk, error)
    text = error.messages[0] if isinstance(error, ValidationError) else str(error)
    if isinstance(error, PermissionDenied):
        raise error
    messages.error(request, text)
    return HttpResponseBadRequest(text) if request.headers.get("Accept") == "application/json" else _queue()


def _attempt(request, write):
    """Run one service call; a refusal is a message on the queue (or a 400 for a script)."""
    try:
        view = write()
    except (ValidationError, PermissionDenied) as error:
        return _fail(request, error)
    return _queue(view.pk)


@require_POST
@agent_required
def create(request):
    """From the queue's current filters (sent as the form's hidden fields)."""
    return _attempt(request, lambda: services.create(
        request.user, name=request.POST.get("name", ""), filters=QueueFilter.parse(request.POST),
        shared=request.POST.get("shared") == "on"))


@require_POST
@agent_required
def update(request, pk):
    view = get_object_or_404(SavedView, pk=pk)
    filters = QueueFilter.parse(request.POST) if request.POST.get("use_current") == "on" else None
    return _attempt(request, lambda: services.update(
        view, actor=request.user, name=request.POST.get("name", ""), shared=request.POST.get("shared") == "on",
        filters=filters))


@require_POST
@agent_required
def delete(request, pk):
    view = get_object_or_404(SavedView, pk=pk)
    services.delete(view, actor=request.user)
    return _queue()
