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
    path("macros/", views.macro_list, name="macro_list"),
    path("macros/new/", views.edit_macro, name="macro_new"),
    path("macros/<int:pk>/", views.edit_macro, name="macro"),
    path("macros/<int:pk>/delete/", views.delete_macro, name="macro_delete"),
    path("tickets/<int:pk>/macros/", views.ticket_macros, name="macros"),
    path("tickets/<int:pk>/macros/<int:macro_id>/", views.apply_macro, name="apply_macro"),
    path("tickets/<int:pk>/snooze/", views.post_snooze, name="snooze"),
    path("bulk/", views.post_bulk, name="bulk"),
    path("bulk/options/", views.bulk_options, name="bulk_options"),
]
