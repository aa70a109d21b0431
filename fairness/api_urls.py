from django.urls import path

from . import apis

urlpatterns = [
    path("tenders/<int:pk>/shortlists/", apis.ShortlistListCreateApi.as_view(), name="api-tender-shortlists"),
    path("tenders/<int:pk>/choice/", apis.ChoiceApi.as_view(), name="api-tender-choice"),
    path("tenders/<int:pk>/abnormal-prices/", apis.AbnormalPricesApi.as_view(), name="api-tender-abnormal-prices"),
    path(
        "tenders/<int:pk>/abnormal-prices/<int:bid_pk>/confirmation/",
        apis.AbnormalPriceConfirmApi.as_view(),
        name="api-tender-abnormal-price-confirm",
    ),
    path("tenders/<int:pk>/questions/", apis.QuestionListCreateApi.as_view(), name="api-tender-questions"),
    path(
        "tenders/<int:pk>/questions/<int:question_pk>/answer/",
        apis.QuestionAnswerApi.as_view(),
        name="api-tender-question-answer",
    ),
    path("tenders/<int:pk>/award-status/", apis.AwardStatusApi.as_view(), name="api-tender-award-status"),
    path("tenders/<int:pk>/move-to-next-bid/", apis.MoveToNextBidApi.as_view(), name="api-tender-move-to-next-bid"),
    path(
        "tenders/<int:pk>/challenges/<int:challenge_pk>/decision/",
        apis.ChallengeDecisionApi.as_view(),
        name="api-tender-challenge-decision",
    ),
    path("tenders/<int:pk>/bids/<int:bid_pk>/outcome/", apis.BidOutcomeApi.as_view(), name="api-tender-bid-outcome"),
    path(
        "tenders/<int:pk>/bids/<int:bid_pk>/bed-hold/confirm/",
        apis.BedHoldConfirmApi.as_view(),
        name="api-tender-bid-bed-hold-confirm",
    ),
    path(
        "tenders/<int:pk>/bids/<int:bid_pk>/challenge/",
        apis.ChallengeRaiseApi.as_view(),
        name="api-tender-bid-challenge",
    ),
]
