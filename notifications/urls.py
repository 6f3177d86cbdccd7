from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("recent/", views.recent, name="recent"),
    path("read/", views.mark_read, name="read"),
    path("<int:pk>/", views.open_notification, name="open"),
]
