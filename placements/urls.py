from django.urls import path

from . import views

app_name = "placements"

urlpatterns = [
    path("broker/requests/", views.request_list, name="request_list"),
    path("broker/requests/new/", views.request_create, name="request_create"),
    path("broker/requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("broker/requests/<int:pk>/publish/", views.request_publish, name="request_publish"),
    path("broker/requests/<int:pk>/retender/", views.request_retender, name="request_retender"),
    path("broker/requests/<int:pk>/award/", views.request_award, name="request_award"),
    path("broker/requests/<int:pk>/cancel/", views.request_cancel, name="request_cancel"),
]
