"""Signing in: throttled, and every success, failure and sign-out audited."""

import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache

from core.audit import audit_record
from core.models import AuditEvent

from .models import User


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") if request else ""


def _keys(email: str, address: str) -> list[str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [f"signin-failures:email:{digest}", f"signin-failures:addr:{address}"]


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed attempts to sign in. Wait %(minutes)s minutes, then try again.",
    }

    def clean(self):
        email = self.data.get("username", "")
        keys = _keys(email, _client_address(self.request))
        limit = settings.LOGIN_FAILURE_LIMIT
        if any((cache.get(key) or 0) >= limit for key in keys):
            self._record_failure(email, throttled=True)
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": settings.LOGIN_FAILURE_WINDOW_SECONDS // 60},
            )
        try:
            return super().clean()
        except forms.ValidationError:
            for key in keys:
                cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
                cache.incr(key)
            self._record_failure(email, throttled=False)
            raise

    def _record_failure(self, email: str, *, throttled: bool) -> None:
        user = User.objects.filter(email=email.strip().lower()).first()
        AuditEvent.objects.create(
            actor=None,
            organisation_id=user.organisation_id if user else None,
            verb="organisations.user.sign_in_throttled" if throttled else "organisations.user.sign_in_failed",
            target_type="organisations.user",
            target_id=str(user.pk) if user else "unknown",
            detail={"email": email[:254], "address": _client_address(self.request)},
        )


class SignInView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        audit_record(
            actor=user,
            verb="organisations.user.signed_in",
            target=user,
            organisation=user.organisation,
            detail={"address": _client_address(self.request)},
        )
        return response


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            audit_record(actor=user, verb="organisations.user.signed_out", target=user, organisation=user.organisation)
        return super().post(request, *args, **kwargs)
