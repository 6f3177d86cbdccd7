"""Console pages of the service levels: the "Breaching soon" queue (and every ticket by next
deadline), the SLA badges the console script shows on queue rows and the ticket header, the
ticket's target list, and the team leads' settings screen (schedules and policies).
Views parse, authorise, read or call one service, render."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from service_levels import services
from service_levels.forms import PolicyForm, ScheduleForm, format_hours
from service_levels.models import Policy, Schedule, TicketMetrics
from tickets import events
from tickets.console import queries, rendering
from tickets.console.views import _link_bases, agent_required
from tickets.policy import can_see_ticket, visible_tickets

SOON = timedelta(hours=1)
MAX_BADGES = 200

SORTS = {"soon": gettext_lazy("Breaching soon"), "deadline": gettext_lazy("By next deadline")}


def lead_required(view):
    """Team leads: whoever may change SLA policies (a permission an admin grants a group)."""
    @wraps(view)
    @agent_required
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm("service_levels.change_policy"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def deadline_ids(user, *, within: timedelta | None, limit: int = queries.QUEUE_SIZE) -> list[int]:
    """Active tickets by next deadline (breached ones first, they are the earliest), read in
    order off the partial next-due index."""
    rows = TicketMetrics.objects.filter(next_due_at__isnull=False).filter(visible_tickets(user, prefix="ticket__"))
    if within is not None:
        rows = rows.filter(next_due_at__lte=timezone.now() + within)
    return list(rows.order_by("next_due_at").values_list("ticket_id", flat=True)[:limit])


@require_GET
@agent_required
def deadlines(request):
    sort = request.GET.get("sort", "soon")
    sort = sort if sort in SORTS else "soon"
    seq = events.current_seq()
    links = _link_bases()
    tickets = queries.queue_rows(deadline_ids(request.user, within=SOON if sort == "soon" else None))
    context = {**links, "tickets": tickets, "seq": seq, "sort": sort, "sorts": SORTS,
               "rows": rendering.queue_rows_html(tickets, console_base=links["console_base"],
                                                 no_subject=_("(no subject)"))}
    template = "service_levels/_deadlines_body.html" if request.GET.get("fragment") else "service_levels/deadlines.html"
    return render(request, template, context)


def next_target(targets: list[dict]) -> dict | None:
    active = [t for t in targets if t["state"] == "active" and t.get("due")]
    return min(active, key=lambda t: t["due"], default=None)


@require_GET
@agent_required
def badges(request):
    """{"now": server time, "badges": {ticket id: {"due", "warn", "kind"}}} for the rows on
    screen: one query whatever their number (the script counts down from these)."""
    try:
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i][:MAX_BADGES]
    except ValueError:
        return JsonResponse({"error": _("ids must be a comma-separated list of numbers.")}, status=400)
    found = {}
    for ticket_id, targets in (TicketMetrics.objects.filter(visible_tickets(request.user, prefix="ticket__"),
                                                            ticket_id__in=ids, next_due_at__isnull=False)
                               .values_list("ticket_id", "targets")):
        target = next_target(targets)
        if target:
            found[ticket_id] = {"due": target["due"], "warn": target["warn"], "kind": target["kind"]}
    return JsonResponse({"now": timezone.now().isoformat(), "badges": found})


@require_GET
@agent_required
def ticket_targets(request, pk):
    """The ticket page's list of targets with their state, and its header badge."""
    if not can_see_ticket(request.user, pk):
        raise PermissionDenied
    metrics = TicketMetrics.objects.filter(ticket_id=pk).first()
    targets = metrics.targets if metrics else []
    shown = {}
    for target in targets:  # the latest cycle of each kind
        shown[target["kind"]] = target
    rows = [dict(t, due_at=_parse(t.get("due")), met=_parse(t.get("met_at")), elapsed_min=round((t.get("elapsed") or 0) / 60),
                 over_min=round((t.get("over") or 0) / 60), remaining_min=round((t.get("remaining") or 0) / 60))
            for t in shown.values()]
    return render(request, "service_levels/_ticket_targets.html", {
        "metrics": metrics, "targets": rows, "next": next_target(targets), "now": timezone.now()})


def _parse(value):
    return datetime.fromisoformat(value) if value else None


# -- settings screen ------------------------------------------------------------------------

@require_GET
@lead_required
def settings_page(request):
    schedules = list(Schedule.objects.prefetch_related("teams"))
    for schedule in schedules:
        schedule.hours_text = format_hours(schedule.intervals)
    return render(request, "service_levels/settings.html", {
        "schedules": schedules, "policies": list(Policy.objects.prefetch_related("teams", "tags").select_related("schedule"))})


@require_http_methods(["GET", "POST"])
@lead_required
def schedule_edit(request, pk=None):
    schedule = get_object_or_404(Schedule, pk=pk) if pk else None
    return _edit(request, ScheduleForm(request.POST or None, instance=schedule), schedule,
                 _("Business-hours schedule"), _("Schedule saved."))


@require_http_methods(["GET", "POST"])
@lead_required
def policy_edit(request, pk=None):
    policy = get_object_or_404(Policy, pk=pk) if pk else Policy()
    return _edit(request, PolicyForm(request.POST or None, instance=policy), policy.pk and policy,
                 _("SLA policy"), _("Policy saved."))


def _edit(request, form, obj, title, saved):
    if request.method == "POST" and form.is_valid():
        try:
            form.save()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, saved)
            return redirect("sla:settings")
    return render(request, "service_levels/edit.html", {"form": form, "title": title, "obj": obj})


@require_POST
@lead_required
def settings_action(request):
    action, pk = request.POST.get("action", ""), request.POST.get("pk", "")
    model = Schedule if action == "delete-schedule" else Policy
    obj = get_object_or_404(model, pk=pk) if pk.isdigit() else None
    if obj is None or action not in ("delete-schedule", "delete-policy", "up", "down"):
        messages.error(request, _("Unknown action."))
    elif action in ("up", "down"):
        services.move_policy(obj, -1 if action == "up" else 1)
    else:
        services.delete(obj)
        messages.success(request, _("Deleted."))
    return redirect("sla:settings")

