"""Signing in and each role's home page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .decorators import role_required
from .models import Role

HOME_FOR_ROLE = {
    Role.BROKER: "broker_home",
    Role.COMMISSIONER: "commissioner_home",
    Role.PROVIDER: "provider_home",
}


@login_required
def home(request):
    target = HOME_FOR_ROLE.get(request.user.role)
    if target:
        return redirect(target)
    if request.user.is_staff:
        return redirect("admin:index")
    return render(request, "home/no_role.html")


@role_required(Role.COMMISSIONER)
def commissioner_home(request):
    return render(request, "home/commissioner.html", {"organisation": request.user.organisation})


@role_required(Role.PROVIDER)
def provider_home(request):
    organisation = request.user.organisation
    homes = organisation.care_homes.select_related("current_rating").order_by("name")
    return render(request, "home/provider.html", {"organisation": organisation, "homes": homes})
