from django.urls import path

from . import views

app_name = "blockbeds"

urlpatterns = [
    path("block-contracts/", views.contract_list, name="contract_list"),
    path("block-contracts/new/", views.contract_create, name="contract_create"),
    path("block-contracts/utilisation/", views.utilisation_page, name="utilisation"),
    path("block-contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("block-contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("block-contracts/<int:pk>/rates/new/", views.contract_rate_new, name="contract_rate_new"),
    path("block-beds/<int:pk>/", views.bed_detail, name="bed_detail"),
    path("block-beds/<int:pk>/live/", views.bed_live, name="bed_live"),
    path("block-beds/<int:pk>/out-of-service/", views.bed_out_of_service, name="bed_out_of_service"),
    path("block-beds/<int:pk>/return/", views.bed_return, name="bed_return"),
    path("block-stays/<int:pk>/end/", views.occupancy_end, name="occupancy_end"),
    path("block-offers/<int:request_pk>/beds/<int:bed_pk>/", views.offer_fill, name="offer_fill"),
    path("block-offers/<int:request_pk>/decline/", views.offer_decline, name="offer_decline"),
]
