from django.urls import path

from . import apis

urlpatterns = [
    path("placements/", apis.PlacementListApi.as_view(), name="api-placements"),
    path(
        "placements/<int:pk>/assessment-outcome/",
        apis.AssessmentOutcomeApi.as_view(),
        name="api-placement-assessment-outcome",
    ),
    path("referrals/", apis.ReferralListCreateApi.as_view(), name="api-referrals"),
    path("referrals/<int:pk>/", apis.ReferralDetailApi.as_view(), name="api-referral"),
]
