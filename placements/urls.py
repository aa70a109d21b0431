from django.urls import path

from . import views

app_name = "placements"

urlpatterns = [
    path("broker/requests/", views.request_list, name="request_list"),
    path("broker/requests/new/", views.request_create, name="request_create"),
    path("placements/<int:pk>/assessment-outcome/", views.assessment_outcome, name="assessment_outcome"),
    path("hospital/referrals/", views.referral_list_view, name="referral_list"),
    path("hospital/referrals/new/", views.referral_create_view, name="referral_create"),
    path("hospital/referrals/<int:pk>/", views.referral_detail_view, name="referral_detail"),
]
