from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("dashboards/", views.dashboard_index, name="index"),
    path("dashboards/<slug:name>/", views.dashboard_page, name="dashboard"),
]
