"""What routing adds to every console page: a header part and a script (no queries: the
script asks for the agent's status once the page is up). templates/base.html renders any app's
`console_header` templates and `console_scripts`, so it names no app."""


def console(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"console_header": ["routing/_availability.html"], "console_scripts": ["routing/routing.js"]}
