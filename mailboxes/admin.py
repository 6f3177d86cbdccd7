from django.contrib import admin

from mailboxes.models import ImportedMail, Mailbox


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    """Read-mostly: mailboxes are edited on the console's screen (secrets are write-only there)."""

    list_display = ("name", "address", "team", "enabled", "last_success_at", "last_error_at")
    readonly_fields = ("last_success_at", "last_error", "last_error_at", "failures", "next_attempt_at",
                       "lease_owner", "lease_expires_at")
    exclude = ("password_encrypted", "smtp_password_encrypted", "oauth_refresh_encrypted", "oauth_access_encrypted")


@admin.register(ImportedMail)
class ImportedMailAdmin(admin.ModelAdmin):
    list_display = ("mailbox", "folder", "uidvalidity", "uid", "message_id", "server_done", "imported_at")
    list_filter = ("mailbox", "server_done")
    raw_id_fields = ("payload",)
