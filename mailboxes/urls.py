from django.urls import path

from mailboxes import views

app_name = "mailboxes"

urlpatterns = [
    path("", views.mailbox_list, name="list"),
    path("new/", views.mailbox_edit, name="new"),
    path("<int:pk>/", views.mailbox_edit, name="edit"),
    path("<int:pk>/delete/", views.mailbox_delete, name="delete"),
    path("<int:pk>/test/", views.mailbox_test, name="test"),
    path("<int:pk>/connect/", views.oauth_start, name="oauth_start"),
    path("oauth/callback/", views.oauth_callback, name="oauth_callback"),
]
