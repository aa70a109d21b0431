from django.urls import path

from .apis import DpsAgreementListApi, LotListApi

urlpatterns = [
    path("lots/", LotListApi.as_view(), name="api-lots"),
    path("dps-agreements/", DpsAgreementListApi.as_view(), name="api-dps-agreements"),
]
