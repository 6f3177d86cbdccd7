"""Routing's console pages: the availability switch and heartbeat (every agent), and the
settings screen (team leads: users with routing's change_rule permission). Views parse,
authorise, call one function, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from routing import availability, engine, forms
from routing.models import AgentStatus, Inbox, Rule, TeamRouting
from tickets.console import queries
from tickets.console.views import agent_required
from tickets.models import Team


@require_POST
@agent_required
def post_availability(request):
    try:
        status = availability.set_status(request.user, request.POST.get("status", ""))
    except ValueError:
        return JsonResponse({"ok": False, "error": _("Unknown availability.")}, status=400)
    return JsonResponse({"ok": True, "status": status})


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
    modes = {t.team_id: t.mode for t in TeamRouting.objects.all()}
    agents = queries.agents()
    statuses = AgentStatus.objects.in_bulk([a.pk for a in agents], field_name="user_id")
    now = availability.effective([a.pk for a in agents])
    return render(request, "routing/settings.html", {
        "teams": [(t, modes.get(t.pk, TeamRouting.Mode.OFF)) for t in teams], "modes": TeamRouting.Mode.choices,
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
