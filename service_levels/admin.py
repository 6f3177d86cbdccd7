"""Service levels in the Django admin. Team leads edit schedules and policies on the console's
settings screen (/console/sla/settings/); the admin is for superusers, and every save or
delete here bumps the configuration version too, so each process re-reads it."""

from django.contrib import admin

from service_levels import config
from service_levels.models import Alert, Policy, Schedule, TicketMetrics


class BumpsConfig(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        config.bump()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        config.bump()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        config.bump()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        config.bump()


@admin.register(Schedule)
class ScheduleAdmin(BumpsConfig):
    list_display = ("name", "timezone", "is_default")
    filter_horizontal = ("teams",)


@admin.register(Policy)
class PolicyAdmin(BumpsConfig):
    list_display = ("name", "position", "is_active", "first_reply_minutes", "next_reply_minutes", "resolution_minutes")
    list_editable = ("position", "is_active")
    filter_horizontal = ("teams", "tags")


@admin.register(TicketMetrics)
class TicketMetricsAdmin(admin.ModelAdmin):
    """Read-only: the record is written by the event hook and by rebuild_ticket_metrics."""

    list_display = ("ticket", "policy_name", "first_reply_seconds", "next_due_at", "reopens", "public_replies")
    search_fields = ("ticket__id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("ticket", "target", "kind", "due_at", "created_at")
    list_filter = ("kind",)

    def has_change_permission(self, request, obj=None):
        return False
