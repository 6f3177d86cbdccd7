"""What surveys add to the console's ticket page: a sidebar part with the survey's state
(templates/console/ticket.html renders every app's `ticket_sidebar` templates, so it names no
app). The part reads the survey itself (one query), only on the ticket page."""


def console(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"ticket_sidebar": ["surveys/_ticket_survey.html"]}
