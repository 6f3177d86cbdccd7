from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("<int:pk>/privacy/", views.customer_privacy, name="customer"),
    path("<int:pk>/privacy/export/", views.export_customer, name="export"),
    path("<int:pk>/privacy/erase/", views.erase_customer, name="erase"),
]
