from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from tickets import models, services


class IdentityInline(admin.TabularInline):
    model = models.Identity
    extra = 0
    fields = ["channel", "address", "display_name", "verified", "opted_out_at", "last_inbound_at"]
    readonly_fields = ["last_inbound_at"]


@admin.register(models.Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "organisation", "merged_into", "created_at"]
    search_fields = ["name", "organisation", "identities__address"]
    inlines = [IdentityInline]


@admin.register(models.Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ["channel", "address", "display_name", "customer", "opted_out_at"]
    list_filter = ["channel"]
    search_fields = ["address", "display_name"]
    raw_id_fields = ["customer"]


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name"]
    filter_horizontal = ["members"]


class MessageInline(admin.StackedInline):
    model = models.Message
    extra = 0
    fields = ["direction", "channel", "author_name", "text", "status", "error_message", "created_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(models.Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "customer", "status", "priority", "assignee", "team", "channel", "updated_at"]
    list_filter = ["status", "priority", "channel", "team"]
    search_fields = ["subject", "customer__name"]
    raw_id_fields = ["customer", "related_to"]
    inlines = [MessageInline]


@admin.register(models.Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "ticket", "direction", "channel", "status", "author_name", "created_at"]
    list_filter = ["direction", "channel", "status"]
    search_fields = ["text", "external_id"]
    raw_id_fields = ["ticket", "customer", "identity", "author"]


@admin.register(models.Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["id", "filename", "content_type", "size", "state", "message"]
    list_filter = ["state"]
    raw_id_fields = ["message"]


@admin.register(models.InboundPayload)
class InboundPayloadAdmin(admin.ModelAdmin):
    """Webhook requests kept for replay. Failed ones are the quarantine admins work through."""

    list_display = ["id", "adapter", "state", "received_at", "error"]
    list_filter = ["state", "adapter"]
    readonly_fields = ["adapter", "path", "content_type", "headers", "received_at", "processed_at", "error"]
    exclude = ["body"]
    actions = ["replay", "let_through", "discard"]

    @admin.action(description=_("Replay the selected payloads"))
    def replay(self, request, queryset):
        done = failed = 0
        for payload in queryset:
            try:
                services.process_payload(payload)
                done += 1
            except Exception as exc:  # noqa: BLE001 - reported to the admin, payload keeps its error
                failed += 1
                self.message_user(request, f"payload {payload.pk}: {exc}", messages.ERROR)
        self.message_user(request, _("%(done)d replayed, %(failed)d failed.") % {"done": done, "failed": failed})

    @admin.action(description=_("Let the selected quarantined payloads through"))
    def let_through(self, request, queryset):
        """For mail an admin has looked at and trusts: process it without the soft checks that
        quarantined it (flood limit, loop rules, size). The parser still runs."""
        done = 0
        for payload in queryset.filter(state=models.InboundPayload.State.QUARANTINED):
            try:
                services.process_payload(payload, release=True)
                done += 1
            except Exception as exc:  # noqa: BLE001 - reported to the admin, payload keeps its error
                self.message_user(request, f"payload {payload.pk}: {exc}", messages.ERROR)
        self.message_user(request, _("%(done)d let through.") % {"done": done})

    @admin.action(description=_("Discard the selected payloads"))
    def discard(self, request, queryset):
        count = queryset.update(state=models.InboundPayload.State.DISCARDED)
        self.message_user(request, _("%(count)d discarded.") % {"count": count})


@admin.register(models.Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["seq", "kind", "ticket", "customer", "public", "created_at"]
    list_filter = ["kind", "public"]
    raw_id_fields = ["ticket", "customer", "message"]


@admin.register(models.CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "target", "actor", "created_at", "undone_at"]
    readonly_fields = ["source", "target", "actor", "moved", "created_at", "undone_at", "undone_by"]
    actions = ["undo"]

    @admin.action(description=_("Undo the selected merges"))
    def undo(self, request, queryset):
        for merge in queryset:
            services.undo_merge(merge, actor=request.user)
        self.message_user(request, _("Merges undone."))


@admin.register(models.Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "color"]
    search_fields = ["name"]


@admin.register(models.CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    """Saved replies for the console; placeholders: {customer_name}, {customer_first_name},
    {agent_name}, {ticket_id}, {ticket_subject}."""

    list_display = ["title", "shortcut", "team"]
    search_fields = ["title", "shortcut", "body"]
    list_filter = ["team"]


@admin.register(models.Mention)
class MentionAdmin(admin.ModelAdmin):
    list_display = ["user", "message", "created_at", "read_at"]
    raw_id_fields = ["message"]
