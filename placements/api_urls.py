from django.urls import path

from . import apis

urlpatterns = [
    path("placement-requests/", apis.PlacementRequestListCreateApi.as_view(), name="api-placement-requests"),
    path("placement-requests/<int:pk>/", apis.PlacementRequestDetailApi.as_view(), name="api-placement-request"),
    path(
        "placement-requests/<int:pk>/publish/",
        apis.PlacementRequestPublishApi.as_view(),
        name="api-placement-request-publish",
    ),
    path("placements/", apis.PlacementListApi.as_view(), name="api-placements"),
]
