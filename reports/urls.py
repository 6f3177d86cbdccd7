from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.report, name="report"),
    path("drill/", views.drill, name="drill"),
    path("drill.csv", views.drill_csv, name="drill_csv"),
    path("table.csv", views.table_csv, name="table_csv"),
]
