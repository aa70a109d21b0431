"""Dashboard pages for commissioners (and, for at-risk requests, brokers), each with a CSV download."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from core.csv_export import csv_response
from organisations.decorators import role_required
from organisations.models import COMMISSIONING_ROLES

from .charts import dashboard_figure
from .permissions import dashboard_commissioner
from .registry import DASHBOARDS, dashboard_run


@role_required(*COMMISSIONING_ROLES)
def dashboard_index(request):
    dashboards = [d for d in DASHBOARDS.values() if request.user.role in d.roles]
    return render(request, "dashboards/index.html", {"dashboards": dashboards})


@role_required(*COMMISSIONING_ROLES)
def dashboard_page(request, name: str):
    dashboard = DASHBOARDS.get(name)
    if dashboard is None:
        raise Http404("No such dashboard.")
    if request.user.role not in dashboard.roles:
        raise PermissionDenied("Your role cannot read this dashboard.")
    commissioner = dashboard_commissioner(request.user, roles=dashboard.roles)
    form, report = dashboard_run(dashboard, commissioner=commissioner, data=request.GET)
    if report is not None and request.GET.get("format") == "csv":
        return csv_response(f"{dashboard.name}.csv", report.csv_header(), report.csv_rows())
    query = request.GET.copy()
    query["format"] = "csv"
    context = {
        "dashboard": dashboard,
        "form": form,
        "report": report,
        "organisation": commissioner,
        "csv_query": query.urlencode(),
    }
    if report is not None:
        context["figure"] = dashboard_figure(dashboard.name, report)
    # A filter that cannot be used is the request's fault: the page shows why, with a 400.
    return render(request, dashboard.template, context, status=400 if report is None else 200)
