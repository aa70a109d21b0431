from django.urls import path

from .apis import PaymentScheduleApi, ServiceAgreementDetailApi, ServiceAgreementListApi, ServiceAgreementPdfApi

urlpatterns = [
    path("payment-schedules/", PaymentScheduleApi.as_view(), name="api-payment-schedules"),
    path("service-agreements/", ServiceAgreementListApi.as_view(), name="api-service-agreements"),
    path("service-agreements/<int:pk>/", ServiceAgreementDetailApi.as_view(), name="api-service-agreement"),
    path("service-agreements/<int:pk>/pdf/", ServiceAgreementPdfApi.as_view(), name="api-service-agreement-pdf"),
]
