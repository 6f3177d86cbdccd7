from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("availability/", views.post_availability, name="availability"),
    path("heartbeat/", views.post_heartbeat, name="heartbeat"),
    path("agents/", views.agents_availability, name="agents"),
    path("", views.settings_page, name="settings"),
    path("rules/new/", views.edit_rule, name="rule_new"),
    path("rules/<int:pk>/", views.edit_rule, name="rule"),
    path("tickets/<int:pk>/macros/", views.ticket_macros, name="macros"),
    path("tickets/<int:pk>/macros/<int:macro_id>/", views.apply_macro, name="apply_macro"),
    path("tickets/<int:pk>/snooze/", views.post_snooze, name="snooze"),
    path("bulk/", views.post_bulk, name="bulk"),
    path("bulk/options/", views.bulk_options, name="bulk_options"),
]
