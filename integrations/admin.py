from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.tasks import retry_now
from tickets.admin import ScopedAdmin


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "event_types", "include_notes", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["secret", "created_at"]
    fields = ["name", "url", "event_types", "include_notes", "is_active", "secret", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ScopedAdmin):  # bodies carry messages: all-teams agents only
    """The delivery log: what was sent where, each attempt's answer, and a retry button."""

    list_display = ["created_at", "endpoint", "event_type", "event_seq", "state", "attempts",
                    "last_status_code", "next_attempt_at"]
    list_filter = ["state", "event_type", "endpoint"]
    search_fields = ["id", "last_error"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry the selected deliveries now"), permissions=["view"])
    def retry(self, request, queryset):
        count = 0
        for delivery in queryset.exclude(state=WebhookDelivery.State.SUCCEEDED):
            retry_now(delivery)
            count += 1
        self.message_user(request, ngettext("%d delivery queued again.", "%d deliveries queued again.", count)
                          % count, messages.SUCCESS)
