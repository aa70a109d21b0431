from django.urls import path

from . import views

app_name = "lots"

urlpatterns = [
    path("", views.rules_list, name="rules"),
    path("<int:number>/edit/", views.rules_edit, name="rules_edit"),
    path("<int:number>/urgency/<slug:urgency>/edit/", views.urgency_rules_edit, name="urgency_rules_edit"),
    path("dps/", views.dps, name="dps"),
    path("dps/options/<int:pk>/exercise/", views.dps_extend, name="dps_extend"),
]
