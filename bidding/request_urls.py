"""The placement request page's paths, served by bidding's views but named in the `placements`
namespace (config/urls.py joins them to placements' own), so links keep their names."""

from django.urls import path

from . import request_views

urlpatterns = [
    path("broker/requests/<int:pk>/", request_views.request_detail, name="request_detail"),
    path("broker/requests/<int:pk>/publish/", request_views.request_publish, name="request_publish"),
    path("broker/requests/<int:pk>/retender/", request_views.request_retender, name="request_retender"),
    path("broker/requests/<int:pk>/award/", request_views.request_award, name="request_award"),
    path("broker/requests/<int:pk>/cancel/", request_views.request_cancel, name="request_cancel"),
]
