from django.urls import path

from . import apis

urlpatterns = [
    path("tenders/<int:pk>/", apis.TenderDetailApi.as_view(), name="api-tender"),
    path("tenders/<int:pk>/bids/", apis.TenderBidsApi.as_view(), name="api-tender-bids"),
    path("tenders/<int:pk>/bids/<int:bid_pk>/", apis.BidDetailApi.as_view(), name="api-tender-bid"),
    path("tenders/<int:pk>/evaluation/", apis.TenderEvaluationApi.as_view(), name="api-tender-evaluation"),
    path("tenders/<int:pk>/award/", apis.TenderAwardApi.as_view(), name="api-tender-award"),
]
