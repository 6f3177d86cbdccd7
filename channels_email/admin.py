"""The email channel's bookkeeping in the admin: which sender was acknowledged on which day,
and which ESP id names which of our mails (read-only: both are written by the channel)."""

from django.contrib import admin

from channels_email.models import Acknowledgement, SentMail


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["address", "day", "ticket_id", "created_at"]
    search_fields = ["address", "=ticket_id"]
    date_hierarchy = "created_at"


@admin.register(SentMail)
class SentMailAdmin(ReadOnlyAdmin):
    list_display = ["esp_message_id", "message_id", "created_at"]
    search_fields = ["=esp_message_id", "=message_id"]
