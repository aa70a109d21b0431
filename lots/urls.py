from django.urls import path

from . import views

app_name = "lots"

urlpatterns = [
    path("", views.rules_list, name="rules"),
    path("<int:number>/edit/", views.rules_edit, name="rules_edit"),
]
