from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    path("commissioner/care-homes/<int:pk>/ratings/", views.ratings, name="ratings"),
]
