from django.urls import path

from tickets.console import views

app_name = "console"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/reply/", views.post_reply, name="reply"),
    path("tickets/<int:pk>/note/", views.post_note, name="note"),
    path("tickets/<int:pk>/status/", views.post_status, name="status"),
    path("tickets/<int:pk>/assign/", views.post_assign, name="assign"),
    path("messages/<int:pk>/retry/", views.post_retry, name="retry"),
]
