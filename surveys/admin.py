from django.contrib import admin

from surveys.models import Survey, SurveySettings
from tickets import policy


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["ticket", "channel", "status", "rating", "sent_at", "answered_at"]
    list_filter = ["status", "channel", "rating"]
    readonly_fields = [f.name for f in Survey._meta.fields] + ["history"]

    def get_queryset(self, request):
        rows = policy.admin_rows(request.user, ticket="ticket")
        queryset = super().get_queryset(request)
        return queryset.none() if rows is None else queryset.filter(rows)

    def has_add_permission(self, request):
        return False


admin.site.register(SurveySettings)
