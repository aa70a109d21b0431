from django.urls import path

from . import views

app_name = "closures"

urlpatterns = [
    path("closures/", views.closure_list, name="closure_list"),
    path("closures/new/", views.closure_create, name="closure_create"),
    path("closures/<int:pk>/", views.closure_detail, name="closure_detail"),
    path("closures/<int:pk>/urgent-requests/", views.closure_requests_raise, name="closure_requests_raise"),
    path("closures/<int:pk>/block-contracts/<int:contract_pk>/end/", views.contract_end, name="contract_end"),
    path("closures/moves/<int:pk>/", views.move_update, name="move_update"),
    path("broker/requests/<int:pk>/spot-contract-by-choice/", views.off_dps_create, name="off_dps_create"),
    path("provider/hand-backs/", views.hand_backs, name="hand_backs"),
    path("provider/hand-backs/placement/", views.hand_back_placement, name="hand_back_placement"),
    path("provider/hand-backs/block-contract/", views.hand_back_contract, name="hand_back_contract"),
]
