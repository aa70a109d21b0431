from django.urls import path

from . import views

app_name = "fairness"

urlpatterns = [
    path("choice/<str:token>/", views.shortlist_view, name="shortlist"),
    path("broker/tenders/<int:pk>/fairness/", views.tender_fairness, name="tender_fairness"),
    path("provider/tenders/<int:pk>/questions/", views.provider_questions, name="provider_questions"),
    path("provider/bids/<int:pk>/award/", views.provider_award, name="provider_award"),
]
