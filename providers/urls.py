from django.urls import path

from . import views

app_name = "providers"

urlpatterns = [
    path("provider/homes/", views.my_homes, name="my_homes"),
    path("provider/homes/add/", views.home_add, name="home_add"),
    path("provider/homes/<int:pk>/", views.home_detail, name="home_detail"),
    path("provider/homes/<int:pk>/apply/", views.home_apply, name="home_apply"),
    path("provider/homes/<int:pk>/vacancies/", views.home_vacancies, name="home_vacancies"),
    path("provider/homes/<int:pk>/bed-vacancies/", views.home_bed_vacancies, name="home_bed_vacancies"),
    path(
        "provider/homes/<int:pk>/bed-vacancies/confirm/",
        views.home_bed_vacancies_confirm,
        name="home_bed_vacancies_confirm",
    ),
    path("provider/homes/<int:pk>/closures/", views.home_closures, name="home_closures"),
    path("closures/<int:pk>/lift/", views.closure_lift, name="closure_lift"),
    path("commissioner/embargoes/", views.embargoes, name="embargoes"),
    path("provider/applications/", views.my_applications, name="my_applications"),
    path("commissioner/applications/", views.application_queue, name="application_queue"),
    path("commissioner/applications/<int:pk>/", views.application_decide, name="application_decide"),
    path("commissioner/dps-members/", views.members, name="members"),
    path("commissioner/suspensions/", views.suspensions, name="suspensions"),
    path("commissioner/admissions/<int:pk>/suspend/", views.admission_suspend, name="admission_suspend"),
    path("commissioner/admissions/<int:pk>/reinstate/", views.admission_reinstate, name="admission_reinstate"),
    path("commissioner/reopening-windows/", views.windows, name="windows"),
    path("commissioner/providers/invite/", views.provider_invite, name="provider_invite"),
    path("provider/welcome/<uidb64>/<token>/", views.WelcomeView.as_view(), name="welcome"),
    path("care-homes/search/", views.care_home_search, name="care_home_search"),
    path("vacancies/search/", views.bed_vacancy_search, name="bed_vacancy_search"),
    path("sign-up/", views.sign_up, name="sign_up"),
    path("sign-up/sent/", views.sign_up_sent, name="sign_up_sent"),
    path("sign-up/confirm/<uidb64>/<token>/", views.SignUpConfirmView.as_view(), name="sign_up_confirm"),
    path("provider/homes/<int:pk>/documents/", views.home_documents, name="home_documents"),
    path("compliance-documents/<int:pk>/", views.document_download, name="document_download"),
    path("commissioner/questionnaire/", views.questionnaire, name="questionnaire"),
    path("commissioner/questionnaire/<int:pk>/retire/", views.question_retire, name="question_retire"),
    path("commissioner/document-requirements/", views.document_requirements, name="document_requirements"),
]
