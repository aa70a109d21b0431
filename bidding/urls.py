from django.urls import path

from . import views

app_name = "bidding"

urlpatterns = [
    path("provider/invitations/", views.invitation_list_view, name="invitation_list"),
    path("provider/invitations/<int:pk>/", views.invitation_detail, name="invitation_detail"),
    path("provider/invitations/<int:pk>/withdraw/", views.invitation_withdraw_bid, name="invitation_withdraw"),
]
