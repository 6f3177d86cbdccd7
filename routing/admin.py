from django.contrib import admin

from routing.models import AgentStatus, Inbox, Macro, Rule, Snooze, TeamRouting


@admin.register(Inbox)
class InboxAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "team")
    search_fields = ("name", "key")


@admin.register(AgentStatus)
class AgentStatusAdmin(admin.ModelAdmin):
    list_display = ("user", "status", "capacity", "channel_capacity", "last_active_at")


@admin.register(TeamRouting)
class TeamRoutingAdmin(admin.ModelAdmin):
    list_display = ("team", "mode", "last_assignee")


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """Rules are edited on the console's settings screen (validated there); the admin lists them
    and can switch them off."""

    list_display = ("name", "position", "trigger", "is_active")
    list_editable = ("is_active",)
    readonly_fields = ("conditions", "actions")


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ("name", "shortcut", "owner", "team", "status", "priority")
    list_filter = ("team",)


@admin.register(Snooze)
class SnoozeAdmin(admin.ModelAdmin):
    list_display = ("ticket", "until", "by")
