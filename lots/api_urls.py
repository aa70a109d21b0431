from django.urls import path

from .apis import LotListApi

urlpatterns = [path("lots/", LotListApi.as_view(), name="api-lots")]
