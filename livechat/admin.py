from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from livechat.models import Conversation, Inbox, VisitorSession
from tickets.admin import ScopedAdmin


@admin.register(Inbox)
class InboxAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "is_active", "prechat_enabled", "created_at"]
    readonly_fields = ["embed_snippet"]
    fieldsets = [
        (None, {"fields": ["name", "key", "is_active", "embed_snippet"]}),
        (_("Security"), {"fields": ["allowed_origins", "hmac_secret"]}),
        (_("Widget"), {"fields": ["title", "greeting", "offline_message", "prechat_enabled",
                                  "prechat_require_email"]}),
        (_("Uploads"), {"fields": ["max_upload_bytes", "upload_types"]}),
    ]

    @admin.display(description=_("Embed snippet"))
    def embed_snippet(self, obj):
        from django.conf import settings

        if not obj.pk:
            return "-"
        return format_html("<code>&lt;script src=\"{}/chat/widget.js\" data-inbox=\"{}\" async&gt;&lt;/script&gt;</code>",
                           settings.HELPDESK_PUBLIC_URL, obj.key)


@admin.register(VisitorSession)
class VisitorSessionAdmin(ScopedAdmin):  # visitors' names and emails: unscoped, so all-teams agents only
    list_display = ["address", "inbox", "name", "email", "connections", "last_seen_at"]
    list_filter = ["inbox"]
    search_fields = ["address", "email", "name", "user_id"]
    readonly_fields = ["key", "address", "user_id", "created_at", "last_seen_at", "connections"]


@admin.register(Conversation)
class ConversationAdmin(ScopedAdmin):
    list_display = ["address", "ticket", "created_at"]
    search_fields = ["address"]
    raw_id_fields = ["ticket"]
    scope_ticket = "ticket"
