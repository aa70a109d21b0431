from django.urls import path

from . import apis, request_apis

urlpatterns = [
    path("placement-requests/", request_apis.PlacementRequestListCreateApi.as_view(), name="api-placement-requests"),
    path(
        "placement-requests/<int:pk>/", request_apis.PlacementRequestDetailApi.as_view(), name="api-placement-request"
    ),
    path(
        "placement-requests/<int:pk>/publish/",
        request_apis.PlacementRequestPublishApi.as_view(),
        name="api-placement-request-publish",
    ),
    path(
        "placement-requests/<int:pk>/block-offer/accept/",
        request_apis.BlockOfferAcceptApi.as_view(),
        name="api-placement-request-block-offer-accept",
    ),
    path(
        "placement-requests/<int:pk>/block-offer/decline/",
        request_apis.BlockOfferDeclineApi.as_view(),
        name="api-placement-request-block-offer-decline",
    ),
    path("invitations/", apis.InvitationListApi.as_view(), name="api-invitations"),
    path("tenders/<int:pk>/", apis.TenderDetailApi.as_view(), name="api-tender"),
    path("tenders/<int:pk>/bids/", apis.TenderBidsApi.as_view(), name="api-tender-bids"),
    path("tenders/<int:pk>/bids/<int:bid_pk>/", apis.BidDetailApi.as_view(), name="api-tender-bid"),
    path("tenders/<int:pk>/evaluation/", apis.TenderEvaluationApi.as_view(), name="api-tender-evaluation"),
    path("tenders/<int:pk>/award/", apis.TenderAwardApi.as_view(), name="api-tender-award"),
]
