from django.contrib import admin

from privacy.models import PrivacyRequest, RetentionSchedule


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(admin.ModelAdmin):
    """The audit trail: read-only, nobody edits or deletes it from here."""

    list_display = ("created_at", "action", "customer_id", "actor", "via")
    list_filter = ("action", "via")
    search_fields = ("=customer_id",)
    readonly_fields = ("action", "customer_id", "actor", "via", "created_at", "summary")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RetentionSchedule)
class RetentionScheduleAdmin(admin.ModelAdmin):
    list_display = ("next_run_at", "last_run_at", "task_id")
    readonly_fields = ("task_id", "next_run_at", "last_run_at", "last_result")

    def has_add_permission(self, request):
        return False
