"""URLs. Each app owns its paths: pages in <app>/urls.py, API endpoints in <app>/api_urls.py."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from core.views import healthz
from integrations.openapi import ApiDocsView
from organisations import views as org_views
from organisations.signin import SignInView, SignOutView

APPS = [
    "providers",
    "quality",
    "placements",
    "bidding",
    "blockbeds",
    "dashboards",
    "integrations",
    "contracts",
    "fairness",
]

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    path("", include("lots.api_urls")),
    *(path("", include(f"{app}.api_urls")) for app in APPS),
]

urlpatterns = [
    path("", org_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("sign-in/", SignInView.as_view(), name="login"),
    path("sign-out/", SignOutView.as_view(), name="logout"),
    path("broker/", org_views.broker_home, name="broker_home"),
    path("commissioner/", org_views.commissioner_home, name="commissioner_home"),
    path("provider/", org_views.provider_home, name="provider_home"),
    path("commissioner/lots/", include("lots.urls")),
    *(path("", include(f"{app}.urls")) for app in APPS),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
]

# Problem details under /api/, a GOV.UK page elsewhere; 503 when PostgreSQL or Redis was unreachable.
handler500 = "core.middleware.server_error"
