from django.urls import path

from .apis import (
    AdmissionClosureLiftApi,
    AdmissionClosuresApi,
    BedVacanciesApi,
    BedVacanciesConfirmApi,
    BedVacancySearchApi,
    CareHomeDetailApi,
    CareHomeListApi,
    VacanciesApi,
)

urlpatterns = [
    path("care-homes/", CareHomeListApi.as_view(), name="api-care-homes"),
    path("care-homes/<int:pk>/", CareHomeDetailApi.as_view(), name="api-care-home"),
    path("care-homes/<int:pk>/vacancies/", VacanciesApi.as_view(), name="api-care-home-vacancies"),
    path("care-homes/<int:pk>/bed-vacancies/", BedVacanciesApi.as_view(), name="api-care-home-bed-vacancies"),
    path(
        "care-homes/<int:pk>/bed-vacancies/confirm/",
        BedVacanciesConfirmApi.as_view(),
        name="api-care-home-bed-vacancies-confirm",
    ),
    path(
        "care-homes/<int:pk>/admission-closures/",
        AdmissionClosuresApi.as_view(),
        name="api-care-home-admission-closures",
    ),
    path("admission-closures/<int:pk>/lift/", AdmissionClosureLiftApi.as_view(), name="api-admission-closure-lift"),
    path("bed-vacancies/", BedVacancySearchApi.as_view(), name="api-bed-vacancies"),
]
