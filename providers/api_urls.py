from django.urls import path

from .apis import CareHomeDetailApi, CareHomeListApi, VacanciesApi

urlpatterns = [
    path("care-homes/", CareHomeListApi.as_view(), name="api-care-homes"),
    path("care-homes/<int:pk>/", CareHomeDetailApi.as_view(), name="api-care-home"),
    path("care-homes/<int:pk>/vacancies/", VacanciesApi.as_view(), name="api-care-home-vacancies"),
]
