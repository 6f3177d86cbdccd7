from django.contrib import admin

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are written by the event sink and read in the console."""

    list_display = ("created_at", "user", "kind", "ticket", "read_at")
    list_filter = ("kind",)
    raw_id_fields = ("user", "ticket", "message")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        from tickets.policy import admin_rows

        scope = admin_rows(request.user, ticket="ticket")
        query = super().get_queryset(request)
        return query.none() if scope is None else query.filter(scope)
