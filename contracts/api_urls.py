from django.urls import path

from .apis import (
    FncRateListApi,
    PaymentScheduleApi,
    PlacementAbsenceEndApi,
    PlacementAbsencesApi,
    PlacementDeathApi,
    PlacementFundingApi,
    PlacementOutcomePaymentsApi,
    ServiceAgreementDetailApi,
    ServiceAgreementListApi,
    ServiceAgreementPdfApi,
    TopUpAgreementApi,
)

urlpatterns = [
    path("placements/<int:pk>/funding-shares/", PlacementFundingApi.as_view(), name="api-placement-funding"),
    path("placements/<int:pk>/absences/", PlacementAbsencesApi.as_view(), name="api-placement-absences"),
    path(
        "placements/<int:pk>/absences/<int:absence_pk>/end/",
        PlacementAbsenceEndApi.as_view(),
        name="api-placement-absence-end",
    ),
    path("placements/<int:pk>/death/", PlacementDeathApi.as_view(), name="api-placement-death"),
    path(
        "placements/<int:pk>/outcome-payments/",
        PlacementOutcomePaymentsApi.as_view(),
        name="api-placement-outcome-payments",
    ),
    path("placement-requests/<int:pk>/top-up-agreements/", TopUpAgreementApi.as_view(), name="api-top-up-agreements"),
    path("fnc-rates/", FncRateListApi.as_view(), name="api-fnc-rates"),
    path("payment-schedules/", PaymentScheduleApi.as_view(), name="api-payment-schedules"),
    path("service-agreements/", ServiceAgreementListApi.as_view(), name="api-service-agreements"),
    path("service-agreements/<int:pk>/", ServiceAgreementDetailApi.as_view(), name="api-service-agreement"),
    path("service-agreements/<int:pk>/pdf/", ServiceAgreementPdfApi.as_view(), name="api-service-agreement-pdf"),
]
