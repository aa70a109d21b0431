from django.urls import path

from .apis import HomeClosureListApi

urlpatterns = [
    path("dashboards/home-closures/", HomeClosureListApi.as_view(), name="api-home-closures"),
]
