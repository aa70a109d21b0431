from django.urls import path

from . import views

app_name = "placements"

urlpatterns = [
    path("broker/requests/", views.request_list, name="request_list"),
    path("broker/requests/new/", views.request_create, name="request_create"),
    path("placements/<int:pk>/assessment-outcome/", views.assessment_outcome, name="assessment_outcome"),
]
