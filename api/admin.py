from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from api.models import ApiToken, IdempotencyKey
from tickets.admin import ScopedAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if not change:
            raw = obj.set_new_secret()
            # Shown once: only its hash is stored.
            messages.warning(request, _("Copy the token now, it will not be shown again: %(token)s")
                             % {"token": raw})
        super().save_model(request, obj, form, change)

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ScopedAdmin):  # stored responses carry messages: all-teams agents only
    list_display = ["key", "token", "method", "path", "status_code", "created_at"]
    search_fields = ["key", "path"]
    readonly_fields = ["token", "key", "fingerprint", "method", "path", "status_code", "response", "created_at"]

    def has_add_permission(self, request):
        return False
