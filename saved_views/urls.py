from django.urls import path

from saved_views import views

app_name = "saved_views"

urlpatterns = [
    path("", views.create, name="create"),
    path("<int:pk>/", views.update, name="update"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]
