"""Template context every console page gets."""

from django.utils.functional import SimpleLazyObject

from tickets import events


def live_seq(request) -> dict:
    """`seq` for base.html's data-seq, where the page's socket resumes from. A view that lists
    live data reads it itself *before* its data (and its value wins); this fallback, read when
    the page renders, keeps any other page (a settings screen, a report) from resuming at 0 and
    being told to reload in a loop once the log is longer than HELPDESK_EVENT_REPLAY_LIMIT."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"seq": SimpleLazyObject(events.current_seq)}
