from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("availability/", views.post_availability, name="availability"),
    path("heartbeat/", views.post_heartbeat, name="heartbeat"),
    path("", views.settings_page, name="settings"),
    path("rules/new/", views.edit_rule, name="rule_new"),
    path("rules/<int:pk>/", views.edit_rule, name="rule"),
]
