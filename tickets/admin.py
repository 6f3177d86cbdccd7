from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from tickets import models, policy, services
from tickets.services.customers import PROFILE_FIELDS


class ScopedAdmin(admin.ModelAdmin):
    """Team scoping in the admin, as in the console (tickets.policy.admin_rows): a staff user
    without `view_all_teams` lists, opens, changes and deletes only rows of tickets (or
    customers) they may see. `scope_ticket` / `scope_customer` name the path to the row's ticket
    or customer; with neither, the rows cannot be scoped and only users who see every team get
    them at all."""

    scope_ticket: str | None = None
    scope_customer: str | None = None

    def scoped_rows(self, request):
        return policy.admin_rows(request.user, ticket=self.scope_ticket, customer=self.scope_customer)

    def get_queryset(self, request):
        rows = self.scoped_rows(request)
        queryset = super().get_queryset(request)
        return queryset.none() if rows is None else queryset.filter(rows)

    def has_module_permission(self, request):
        return self.scoped_rows(request) is not None and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self.scoped_rows(request) is not None and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.scoped_rows(request) is not None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.scoped_rows(request) is not None and super().has_delete_permission(request, obj)


class ServiceOwnedAdmin(ScopedAdmin):
    """Rows that only tickets.services write (every change must make an event): read-only here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class IdentityInline(admin.TabularInline):
    # Identities come from ingest and verified links; opt-outs from the channel (STOP): the
    # services own them all, so the admin only shows them.
    model = models.Identity
    extra = 0
    fields = ["channel", "address", "display_name", "verified", "opted_out_at", "last_inbound_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Customer)
class CustomerAdmin(ScopedAdmin):
    list_display = ["id", "name", "organisation", "merged_into", "created_at"]
    search_fields = ["name", "organisation", "identities__address"]
    fields = ["name", "organisation", "notes", "merged_into"]
    readonly_fields = ["merged_into"]
    inlines = [IdentityInline]
    scope_customer = "pk"

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # Through the service, so consoles showing this customer update (customer.updated).
        try:
            services.update_customer(obj, actor=request.user, **{f: getattr(obj, f) for f in PROFILE_FIELDS})
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)


@admin.register(models.Identity)
class IdentityAdmin(ServiceOwnedAdmin):
    list_display = ["channel", "address", "display_name", "customer", "opted_out_at"]
    list_filter = ["channel"]
    search_fields = ["address", "display_name"]
    raw_id_fields = ["customer"]
    scope_customer = "customer_id"


@admin.register(models.Team)
class TeamAdmin(ScopedAdmin):
    # Team membership is what scoping rests on: a restricted agent must not join other teams.
    list_display = ["name"]
    filter_horizontal = ["members"]


class MessageInline(admin.StackedInline):
    model = models.Message
    extra = 0
    fields = ["direction", "channel", "author_name", "text", "status", "error_message", "created_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(models.Ticket)
class TicketAdmin(ServiceOwnedAdmin):
    # Status, assignee, team, tags...: changed in the console or the API (services, events).
    list_display = ["id", "subject", "customer", "status", "priority", "assignee", "team", "channel", "updated_at"]
    list_filter = ["status", "priority", "channel", "team"]
    search_fields = ["subject", "customer__name"]
    raw_id_fields = ["customer", "related_to"]
    inlines = [MessageInline]
    scope_ticket = "pk"


@admin.register(models.Message)
class MessageAdmin(ServiceOwnedAdmin):
    list_display = ["id", "ticket", "direction", "channel", "status", "author_name", "created_at"]
    list_filter = ["direction", "channel", "status"]
    search_fields = ["text", "external_id"]
    raw_id_fields = ["ticket", "customer", "identity", "author"]
    scope_ticket = "ticket"


@admin.register(models.Attachment)
class AttachmentAdmin(ServiceOwnedAdmin):
    list_display = ["id", "filename", "content_type", "size", "state", "message"]
    list_filter = ["state"]
    raw_id_fields = ["message"]
    scope_ticket = "message__ticket"


@admin.register(models.InboundPayload)
class InboundPayloadAdmin(ScopedAdmin):
    # Raw requests belong to no ticket until parsed: only for users who see every team.
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
                services.process_request(payload)
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
                services.process_request(payload, release=True)
                done += 1
            except Exception as exc:  # noqa: BLE001 - reported to the admin, payload keeps its error
                self.message_user(request, f"payload {payload.pk}: {exc}", messages.ERROR)
        self.message_user(request, _("%(done)d let through.") % {"done": done})

    @admin.action(description=_("Discard the selected payloads"))
    def discard(self, request, queryset):
        count = queryset.update(state=models.InboundPayload.State.DISCARDED)
        self.message_user(request, _("%(count)d discarded.") % {"count": count})


@admin.register(models.Event)
class EventAdmin(ServiceOwnedAdmin):
    list_display = ["seq", "kind", "ticket", "customer", "public", "created_at"]
    list_filter = ["kind", "public"]
    raw_id_fields = ["ticket", "customer", "message"]
    scope_ticket = "ticket"

    def get_queryset(self, request):
        # Customer-wide events (merges) have no ticket; the policy decides them one by one.
        queryset = super().get_queryset(request)
        if policy.sees_all_teams(request.user):
            return queryset
        return queryset.filter(ticket__isnull=False)


@admin.register(models.CustomerMerge)
class CustomerMergeAdmin(ScopedAdmin):
    list_display = ["id", "source", "target", "actor", "created_at", "undone_at"]
    readonly_fields = ["source", "target", "actor", "moved", "created_at", "undone_at", "undone_by"]
    actions = ["undo"]
    scope_customer = "target_id"

    def has_add_permission(self, request):
        return False  # merges are made in the console or the API (services.merge_customers)

    @admin.action(description=_("Undo the selected merges"))
    def undo(self, request, queryset):
        done = 0
        for merge in queryset:
            if not policy.can_undo_merge(request.user, merge):
                self.message_user(request, _("You may not undo merge %(id)s.") % {"id": merge.pk}, messages.ERROR)
                continue
            services.undo_merge(merge, actor=request.user)
            done += 1
        self.message_user(request, _("%(done)d merges undone.") % {"done": done})


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
class MentionAdmin(ServiceOwnedAdmin):
    list_display = ["user", "message", "created_at", "read_at"]
    raw_id_fields = ["message"]
    scope_ticket = "message__ticket"
