"""The survey's public landing page (email links, the chat widget's card) and the team lead's
settings screen. A GET never records anything: mail scanners (Safe Links, Mimecast) open every
link in a message, so only an explicit POST (a button press) counts."""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from surveys import compose, services
from surveys.links import LinkRefused, open_survey
from surveys.models import SURVEY_CHANNELS, SurveySettings
from tickets.console.views import agent_required


# No CSRF token: the signed link is the credential (no cookie or login is involved), and the
# chat widget posts here from the customer's site.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def answer(request, token):
    as_json = request.POST.get("format") == "json"
    try:
        survey = open_survey(token)
    except LinkRefused as refused:
        if as_json:
            return _cors(JsonResponse({"error": refused.reason}, status=refused.status))
        return render(request, "surveys/page.html", {"refused": refused.reason}, status=refused.status)
    step = "rate"
    if request.method == "POST":
        rating = _rating(request.POST.get("rating"))
        if rating is not None:
            survey = services.record_rating(survey, rating, via="link")
        if "comment" in request.POST or request.POST.get("finish"):
            if survey.rating is None:
                return _refuse(request, as_json, _("Choose a rating first."))
            survey = services.add_comment(survey, request.POST.get("comment", ""))
            step = "thanks"
        elif rating is None:
            return _refuse(request, as_json, _("Choose a rating from 1 to 5."))
        if as_json:
            return _cors(JsonResponse({"rating": survey.rating, "done": step == "thanks"}))
    # In the language the survey was sent in (the ticket's, when known), not the browser's.
    with translation.override(survey.language or None):
        return render(request, "surveys/page.html", {
            "survey": survey, "step": step, "chosen": _rating(request.GET.get("rating")) or survey.rating,
            "choices": list(compose.rating_labels().items())})


def _rating(value) -> int | None:
    return int(value) if str(value or "") in {"1", "2", "3", "4", "5"} else None


def _refuse(request, as_json: bool, reason: str):
    if as_json:
        return _cors(JsonResponse({"error": reason}, status=400))
    return render(request, "surveys/page.html", {"refused": reason}, status=400)


def _cors(response):
    # Answers carry no cookie and need the signed token: any site embedding the widget may post.
    response["Access-Control-Allow-Origin"] = "*"
    return response


class SurveySettingsForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(c, c) for c in SURVEY_CHANNELS])

    class Meta:
        model = SurveySettings
        fields = ["enabled", "delay_minutes", "cooldown_days", "answer_hours", "channels", "excluded_teams",
                  "reopen_on_low_rating", "whatsapp_template"]
        widgets = {"excluded_teams": forms.CheckboxSelectMultiple}


@agent_required
@require_http_methods(["GET", "POST"])
def settings_screen(request):
    """Team leads: who may change it is the `surveys.change_surveysettings` permission."""
    if not request.user.has_perm("surveys.change_surveysettings"):
        raise PermissionDenied
    config = SurveySettings.current()
    form = SurveySettingsForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        form.save()
        flash.success(request, _("Survey settings saved."))
        return redirect("surveys:settings")
    return render(request, "surveys/settings.html", {"form": form})
