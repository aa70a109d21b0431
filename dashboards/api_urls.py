from django.urls import path

from .apis import API_VIEWS

urlpatterns = [
    path(f"dashboards/{view.dashboard}/", view.as_view(), name=f"api-dashboard-{view.dashboard}") for view in API_VIEWS
]
