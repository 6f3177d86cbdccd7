"""Routing's console pages: the availability switch and heartbeat (every agent), and the
settings screen (team leads: users with routing's change_rule permission). Views parse,
authorise, call one function, render."""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from routing import availability, bulk, engine, forms, macros, schedule
from routing.models import AgentStatus, Inbox, Macro, Rule, TeamRouting
from tickets import services
from tickets.console import queries
from tickets.console.views import agent_required
from tickets.models import Team, Ticket
from tickets.policy import can_see_ticket


@require_POST
@agent_required
def post_availability(request):
    try:
        status = availability.set_status(request.user, request.POST.get("status", ""))
    except ValueError:
        return JsonResponse({"ok": False, "error": _("Unknown availability.")}, status=400)
    return JsonResponse({"ok": True, "status": status})


@agent_required
def agents_availability(request):
    """{user id: online | away | offline} for every agent: the console shows it beside names."""
    ids = [a.pk for a in queries.agents()]
    return JsonResponse({"agents": {str(k): v for k, v in availability.effective(ids).items()}})


@require_POST
@agent_required
def post_heartbeat(request):
    return JsonResponse({"ok": True, "status": availability.touch(request.user, request.POST.get("active") == "1")})


def _configuring(save):
    """Save routing configuration; when routing was off until now, it starts from the end of
    the log (never replaying old events with the new settings)."""
    engine.start_from_now_if_idle()
    with transaction.atomic():
        save()


@agent_required
@permission_required("routing.change_rule", raise_exception=True)
def settings_page(request):
    if request.method == "POST":
        _save_settings(request)
        return redirect("routing:settings")
    teams = list(Team.objects.all())
    modes = {t.team_id: (t.mode, t.release_when_offline) for t in TeamRouting.objects.all()}
    agents = queries.agents()
    statuses = AgentStatus.objects.in_bulk([a.pk for a in agents], field_name="user_id")
    now = availability.effective([a.pk for a in agents])
    return render(request, "routing/settings.html", {
        "teams": [(t, *modes.get(t.pk, (TeamRouting.Mode.OFF, False))) for t in teams], "modes": TeamRouting.Mode.choices,
        "agents": [(a, statuses.get(a.pk), now.get(a.pk)) for a in agents],
        "inboxes": Inbox.objects.select_related("team"), "inbox_form": forms.InboxForm(),
        "rules": Rule.objects.all(),
    })


def _save_settings(request):
    what = request.POST.get("form")
    if what == "team":
        team = get_object_or_404(Team, pk=request.POST.get("team"))
        form = forms.TeamRoutingForm(request.POST, instance=TeamRouting.objects.filter(team=team).first()
                                     or TeamRouting(team=team))
        if form.is_valid():
            _configuring(form.save)
            messages.success(request, _("Assignment for %(team)s saved.") % {"team": team.name})
        else:
            messages.error(request, _("Unknown assignment mode."))
    elif what == "agent":
        user = get_object_or_404(get_user_model(), pk=request.POST.get("user"))
        try:
            capacity = request.POST.get("capacity", "").strip()
            per_channel = forms.parse_channel_capacity(request.POST.get("channel_capacity", ""))
            if capacity and not capacity.isdigit():
                raise ValidationError(_("Capacity must be a whole number (empty: no limit)."))
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
            return
        AgentStatus.objects.update_or_create(user=user, defaults={
            "capacity": int(capacity) if capacity else None, "channel_capacity": per_channel})
        engine.request_pass()  # more room may let waiting tickets go out
        messages.success(request, _("Capacity of %(user)s saved.") % {"user": user.get_username()})
    elif what == "inbox":
        form = forms.InboxForm(request.POST, instance=Inbox.objects.filter(key=request.POST.get("key", "")).first())
        if form.is_valid():
            _configuring(form.save)
            messages.success(request, _("Inbox %(name)s saved.") % {"name": form.instance.name})
        else:
            messages.error(request, "; ".join(m for errors in form.errors.values() for m in errors))


@agent_required
@permission_required("routing.change_rule", raise_exception=True)
def edit_rule(request, pk=None):
    rule = get_object_or_404(Rule, pk=pk) if pk else Rule()
    form = forms.RuleForm(request.POST or None, instance=rule)
    matches = None
    if request.method == "POST" and form.is_valid():
        if "dry_run" in request.POST:
            matches = engine.dry_run(form.instance)
        else:
            _configuring(form.save)
            messages.success(request, _("Rule '%(name)s' saved.") % {"name": form.instance.name})
            return redirect("routing:settings")
    return render(request, "routing/rule.html", {
        "form": form, "rule": rule, "matches": matches,
        "fields": forms.rules.FIELDS, "actions": forms.rules.ACTION_LABELS,
    })


def _visible_ticket(request, pk) -> Ticket:
    if not can_see_ticket(request.user, pk):
        raise PermissionDenied
    return get_object_or_404(Ticket.objects.select_related("customer"), pk=pk)


@agent_required
def ticket_macros(request, pk):
    """The macros this agent may apply here, each with its preview (what it will send and change)."""
    ticket = _visible_ticket(request, pk)
    return JsonResponse({"macros": [macros.preview(m, ticket, request.user) for m in macros.available(request.user)]})


@require_POST
@agent_required
def apply_macro(request, pk, macro_id):
    ticket = _visible_ticket(request, pk)
    macro = get_object_or_404(macros.available(request.user), pk=macro_id)
    try:
        done = macros.apply(macro, ticket, request.user, client_id=request.POST.get("client_id") or None)
    except (ValueError, services.ReplyRefused) as exc:
        return JsonResponse({"ok": False, "error": getattr(exc, "reason", str(exc))}, status=400)
    return JsonResponse({"ok": True, "applied": done})


@require_POST
@agent_required
def post_snooze(request, pk):
    ticket = _visible_ticket(request, pk)
    until = parse_datetime(request.POST.get("until", ""))
    if until is None:
        return JsonResponse({"ok": False, "error": _("Choose a date and time.")}, status=400)
    if timezone.is_naive(until):
        until = timezone.make_aware(until)
    try:
        schedule.snooze(ticket, until, actor=request.user)
    except ValueError as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=400)
    return JsonResponse({"ok": True, "until": until.isoformat()})


@agent_required
def bulk_options(request):
    return JsonResponse({
        "agents": [{"id": a.pk, "name": a.get_full_name() or a.get_username()} for a in queries.agents()],
        "statuses": [[v, str(label)] for v, label in Ticket.Status.choices],
        "priorities": [[v, str(label)] for v, label in Ticket.Priority.choices],
        "macros": [{"id": m.pk, "name": m.name} for m in macros.available(request.user)],
    })


@require_POST
@agent_required
def post_bulk(request):
    ids = [i for i in request.POST.get("tickets", "").split(",") if i.strip().isdigit()]
    try:
        results = bulk.run(request.user, ids, request.POST.get("action", ""), request.POST.get("value", ""))
    except bulk.BulkRefused as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=400)
    return JsonResponse({"ok": all(r["ok"] for r in results), "results": results})


# --- macros, edited in the console: personal ones by any agent, shared / team ones by team leads
def _editable_macro(request, pk) -> Macro:
    """A macro this user may edit: their own, or a shared one with routing.change_macro. Anyone
    else's personal macro is "not found" (its existence is nobody's business)."""
    macro = get_object_or_404(Macro, pk=pk)
    if macro.owner_id == request.user.pk:
        return macro
    if macro.owner_id is None and request.user.has_perm("routing.change_macro"):
        return macro
    if macro.owner_id is None:
        raise PermissionDenied
    raise Http404


# A made-up ticket for the preview: the editor sees placeholders filled without reading anyone's data.
SAMPLE_TICKET = SimpleNamespace(pk=1234, subject=_lazy("Where is my order?"), customer=SimpleNamespace(name="Jane Doe"))


@agent_required
def macro_list(request):
    mine = Macro.objects.filter(owner=request.user).select_related("team")
    shared = Macro.objects.filter(owner__isnull=True).select_related("team")
    return render(request, "routing/macros.html", {
        "mine": mine, "shared": shared, "may_share": request.user.has_perm("routing.change_macro")})


@agent_required
def edit_macro(request, pk=None):
    macro = _editable_macro(request, pk) if pk else Macro()
    form = forms.MacroForm(request.POST or None, instance=macro, user=request.user)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = macros.preview(form.instance, SAMPLE_TICKET, request.user)
        else:
            form.save()
            messages.success(request, _("Macro '%(name)s' saved.") % {"name": form.instance.name})
            return redirect("routing:macro_list")
    return render(request, "routing/macro.html", {"form": form, "macro": macro, "preview": preview,
                                                  "placeholders": sorted(forms.PLACEHOLDERS)})


@require_POST
@agent_required
def delete_macro(request, pk):
    macro = _editable_macro(request, pk)
    macro.delete()
    messages.success(request, _("Macro '%(name)s' deleted.") % {"name": macro.name})
    return redirect("routing:macro_list")
