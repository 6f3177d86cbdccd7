from django.urls import path

from customer_pictures import views

app_name = "customer_pictures"
urlpatterns = [
    path("<int:pk>/", views.picture, name="picture"),
]
