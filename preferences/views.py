"""The agent's own preferences screen (/console/preferences/): time zone and language."""

import logging

from django import forms
from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from preferences import services
from tickets.console.views import agent_required

log = logging.getLogger(__name__)


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        browser = [("", _("The browser's"))]
        self.fields["time_zone"].choices = browser + [(z, z.replace("_", " ")) for z in services.time_zone_choices()]
        # Each language in its own name, so an agent can find theirs whatever the console speaks.
        self.fields["language"].choices = browser + services.language_choices()


@require_http_methods(["GET", "POST"])
@agent_required
def edit(request):
    zone, language = services.of(request.user)
    initial = {"time_zone": zone, "language": language}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            services.save(request.user, **form.cleaned_data)
            flash.success(request, _("Preferences saved."))
            return redirect("preferences:edit")
        log.info("preferences refused for user %s: %s", request.user.pk, form.errors.as_json())
        return render(request, "preferences/edit.html", {"form": form, "now": timezone.now()}, status=400)
    return render(request, "preferences/edit.html", {"form": form, "now": timezone.now()})
