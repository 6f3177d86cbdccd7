from django.urls import path

from livechat import views

app_name = "livechat"

urlpatterns = [
    path("chat/widget.js", views.widget_js, name="widget"),
    path("chat/demo/", views.demo, name="demo"),
    path("chat/api/<slug:inbox_key>/session/", views.start_session, name="session"),
    path("chat/api/<slug:inbox_key>/upload/", views.upload, name="upload"),
    path("chat/api/<slug:inbox_key>/attachments/<int:pk>/", views.attachment, name="attachment"),
]
