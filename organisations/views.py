"""Each role's home page, with its to-do list (`organisations.todo`), and resetting a forgotten password."""

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from core.audit import audit_record

from .decorators import role_required
from .models import Role, User
from .signin import client_address, password_reset_budget_spend, signin_account_clear, wait_text
from .todo import todo_list

HOME_FOR_ROLE = {
    Role.BROKER: "broker_home",
    Role.COMMISSIONER: "commissioner_home",
    Role.PROVIDER: "provider_home",
    Role.DISCHARGE_COORDINATOR: "placements:referral_list",
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
    return render(
        request,
        "home/commissioner.html",
        {"organisation": request.user.organisation, "todo": todo_list(request.user)},
    )


@role_required(Role.PROVIDER)
def provider_home(request):
    organisation = request.user.organisation
    homes = organisation.care_homes.select_related("current_rating").order_by("name")
    return render(
        request,
        "home/provider.html",
        {"organisation": organisation, "homes": homes, "todo": todo_list(request.user)},
    )


class ForgottenPasswordForm(PasswordResetForm):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "required": "Enter your e-mail address",
            "invalid": "Enter an e-mail address in the correct format, like name@example.org",
        },
    )

    def get_users(self, email):
        """People (not API clients' service accounts) with this address, including an invited person who
        has not yet set a password: their invitation link may have expired."""
        return User.objects.filter(email__iexact=email.strip(), is_active=True, is_service_account=False)


class PasswordResetRequestView(auth_views.PasswordResetView):
    """Asks for an e-mail address and sends a one-time link to it; says the same whether or not
    the address has an account, so the page cannot be used to find out who has one."""

    form_class = ForgottenPasswordForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "emails/password_reset.txt"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        address = client_address(self.request)
        spent, wait = password_reset_budget_spend(email=email, address=address)
        if spent == "address":
            form.add_error(
                None,
                "There have been too many requests for a password reset from your network. "
                f"Try again in {wait_text(wait)}.",
            )
            return self.form_invalid(form)
        if spent == "account":
            user = form.get_users(email).select_related("organisation").first()
            audit_record(
                actor=None,
                verb="organisations.user.password_reset_throttled",
                target=user or ("organisations.user", "unknown"),
                organisation=user.organisation if user else None,
                detail={"email": email[:254], "address": address},
            )
            return redirect(self.get_success_url())
        return super().form_valid(form)

    @property
    def extra_email_context(self):
        # Links are built on the configured site address, never on the Host header a caller sent.
        return {"site_url": settings.SITE_URL.rstrip("/"), "timeout_text": wait_text(settings.PASSWORD_RESET_TIMEOUT)}


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"
    extra_context = {"timeout_text": lambda: wait_text(settings.PASSWORD_RESET_TIMEOUT)}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The one-time link: it works until the password changes (or the person signs in) and for
    PASSWORD_RESET_TIMEOUT at most."""

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        signin_account_clear(email=user.email)
        audit_record(actor=None, verb="organisations.user.password_reset", target=user, organisation=user.organisation)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
