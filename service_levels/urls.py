from django.urls import path

from service_levels import views

app_name = "sla"

urlpatterns = [
    path("", views.deadlines, name="deadlines"),
    path("badges/", views.badges, name="badges"),
    path("tickets/<int:pk>/", views.ticket_targets, name="ticket"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/action/", views.settings_action, name="settings_action"),
    path("settings/schedules/new/", views.schedule_edit, name="schedule_new"),
    path("settings/schedules/<int:pk>/", views.schedule_edit, name="schedule"),
    path("settings/policies/new/", views.policy_edit, name="policy_new"),
    path("settings/policies/<int:pk>/", views.policy_edit, name="policy"),
]
