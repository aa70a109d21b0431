from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    path("commissioner/care-homes/<int:pk>/ratings/", views.ratings, name="ratings"),
    path("commissioner/care-homes/<int:pk>/quality/", views.home_quality, name="home"),
    path("commissioner/care-homes/<int:pk>/visits/new/", views.visit_record, name="visit_record"),
    path("commissioner/monitoring/", views.monitoring, name="monitoring"),
    path("commissioner/monitoring/framework/", views.framework, name="framework"),
    path("commissioner/monitoring/questions/<int:pk>/retire/", views.question_retire, name="question_retire"),
    path("commissioner/care-homes/<int:pk>/concerns/", views.concerns, name="concerns"),
    path("commissioner/concerns/<int:pk>/", views.concern, name="concern"),
    path("commissioner/care-homes/<int:pk>/improvement-plan/", views.plan, name="plan"),
    path("provider/homes/<int:pk>/improvement-plan/", views.provider_plan, name="provider_plan"),
    path("provider/homes/<int:pk>/returns/", views.provider_returns, name="provider_returns"),
    path("commissioner/returns/", views.body_returns, name="body_returns"),
    path("commissioner/returns/measures/", views.return_measures, name="return_measures"),
    path(
        "commissioner/returns/measures/<int:pk>/retire/",
        views.return_measure_retire_view,
        name="return_measure_retire",
    ),
    path("returns/<int:pk>/", views.return_detail, name="return_detail"),
    path("improvement-actions/<int:pk>/", views.action_update, name="action_update"),
    path("commissioner/quality-scoring/", views.scoring_rules, name="scoring_rules"),
    path("commissioner/quality-scoring/<int:number>/", views.scoring_rule_edit, name="scoring_rule_edit"),
]
