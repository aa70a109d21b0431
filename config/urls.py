"""URLs. Each app owns its paths: pages in <app>/urls.py, API endpoints in <app>/api_urls.py."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from bidding import request_urls as bidding_request_urls
from integrations.openapi import ApiDocsView
from lots import views as lots_views
from organisations import views as org_views
from organisations.signin import SignInView, SignOutView
from placements import urls as placements_urls
from placements import views as placement_views

from .metrics import metrics
from .views import healthz, liveness, readiness

APPS = [
    "providers",
    "quality",
    "placements",
    "bidding",
    "blockbeds",
    "dashboards",
    "integrations",
    "contracts",
    "closures",
    "fairness",
]
PAGE_APPS = [app for app in APPS if app != "placements"]

# The placement request's page is bidding's (its tenders and bids) but keeps its `placements:` names.
placement_pages = ([*placements_urls.urlpatterns, *bidding_request_urls.urlpatterns], "placements")

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    path("", include("lots.api_urls")),
    *(path("", include(f"{app}.api_urls")) for app in APPS),
]

urlpatterns = [
    path("", org_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("health/live", liveness, name="health_live"),
    path("health/ready", readiness, name="health_ready"),
    path("metrics", metrics, name="metrics"),
    path("sign-in/", SignInView.as_view(), name="login"),
    path("sign-out/", SignOutView.as_view(), name="logout"),
    path("password-reset/", org_views.PasswordResetRequestView.as_view(), name="password_reset"),
    path("password-reset/sent/", org_views.PasswordResetSentView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        org_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/complete/", org_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("broker/", placement_views.broker_home, name="broker_home"),
    path("commissioner/", org_views.commissioner_home, name="commissioner_home"),
    path("provider/", org_views.provider_home, name="provider_home"),
    path("commissioner/lots/", include("lots.urls")),
    path("dps/", lots_views.dps_register, name="dps_register"),
    path("", include(placement_pages)),
    *(path("", include(f"{app}.urls")) for app in PAGE_APPS),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
]

# Problem details under /api/, a GOV.UK page elsewhere; 503 when PostgreSQL or Redis was unreachable.
handler500 = "core.middleware.server_error"
