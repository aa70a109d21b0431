from django.urls import path

from .apis import BlockContractDetailApi, BlockContractListApi, BlockContractRateCreateApi, BlockUtilisationApi

urlpatterns = [
    path("block-contracts/", BlockContractListApi.as_view(), name="api-block-contracts"),
    path("block-contracts/<int:pk>/", BlockContractDetailApi.as_view(), name="api-block-contract"),
    path("block-contracts/<int:pk>/rates/", BlockContractRateCreateApi.as_view(), name="api-block-contract-rates"),
    path("dashboards/block-utilisation/", BlockUtilisationApi.as_view(), name="api-block-utilisation"),
]
