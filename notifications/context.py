"""The bell's unread count for every console page, read only when a page shows the bell
(lazily: the login page and JSON views never pay for it)."""

from django.utils.functional import SimpleLazyObject


def bell(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from notifications.services import unread_count

    return {"notifications_unread": SimpleLazyObject(lambda: unread_count(user))}
