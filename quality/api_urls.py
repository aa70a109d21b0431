from django.urls import path

from .apis import (
    ConcernsApi,
    ImprovementActionProgressApi,
    ImprovementActionsApi,
    MonitoringFrameworkApi,
    MonitoringVisitsApi,
    ProviderReturnsApi,
    QualityScoringRuleApi,
    QualityScoringRulesApi,
    ReturnMeasureRetireApi,
    ReturnMeasuresApi,
)

urlpatterns = [
    path("monitoring-framework/", MonitoringFrameworkApi.as_view(), name="api-monitoring-framework"),
    path(
        "care-homes/<int:pk>/monitoring-visits/", MonitoringVisitsApi.as_view(), name="api-care-home-monitoring-visits"
    ),
    path("care-homes/<int:pk>/concerns/", ConcernsApi.as_view(), name="api-care-home-concerns"),
    path(
        "care-homes/<int:pk>/improvement-actions/",
        ImprovementActionsApi.as_view(),
        name="api-care-home-improvement-actions",
    ),
    path(
        "improvement-actions/<int:pk>/progress/",
        ImprovementActionProgressApi.as_view(),
        name="api-improvement-action-progress",
    ),
    path("care-homes/<int:pk>/returns/", ProviderReturnsApi.as_view(), name="api-care-home-returns"),
    path("return-measures/", ReturnMeasuresApi.as_view(), name="api-return-measures"),
    path("return-measures/<int:pk>/retire/", ReturnMeasureRetireApi.as_view(), name="api-return-measure-retire"),
    path("quality-scoring-rules/", QualityScoringRulesApi.as_view(), name="api-quality-scoring-rules"),
    path("quality-scoring-rules/<int:number>/", QualityScoringRuleApi.as_view(), name="api-quality-scoring-rule"),
]
