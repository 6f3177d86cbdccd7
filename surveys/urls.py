from django.urls import path

from surveys import views

app_name = "surveys"
urlpatterns = [
    path("surveys/<str:token>/", views.answer, name="answer"),
    path("console/surveys/settings/", views.settings_screen, name="settings"),
]
