from django.urls import path

from . import apis

urlpatterns = [
    path("placements/", apis.PlacementListApi.as_view(), name="api-placements"),
]
