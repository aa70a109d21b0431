"""The back office: Django's admin site, signed in to through the service's own sign-in page.

Django's admin has a sign-in form of its own, which would try passwords without the sign-in page's
throttling (`organisations.signin`) and audit, and would tell a person whose password is right that
their account is not staff. Here it sends everyone to the one sign-in page and back.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect, resolve_url
from django.utils.http import urlencode


class BackOfficeSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        back = request.GET.get(REDIRECT_FIELD_NAME) or resolve_url("admin:index")
        return redirect(f"{resolve_url('login')}?{urlencode({REDIRECT_FIELD_NAME: back})}")


class BackOfficeAdminConfig(AdminConfig):
    default_site = "config.admin_site.BackOfficeSite"
