"""Pages for commissioners and provider users: API clients and webhook subscriptions."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.csv_export import csv_response
from core.errors import ACCESS_ERRORS, ApplicationError, apply_to_form
from core.lists import list_page
from organisations.decorators import role_required
from organisations.models import Role
from organisations.selectors import api_client_get, api_client_list
from organisations.services import api_client_create, api_client_revoke

from .forms import ApiClientForm, ConfirmForm, WebhookSubscriptionForm
from .list_filters import ApiClientFilterForm, DeliveryFilterForm, WebhookFilterForm
from .selectors import (
    webhook_delivery_get,
    webhook_delivery_list,
    webhook_subscription_get,
    webhook_subscription_list,
)
from .services import (
    webhook_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_disable,
    webhook_subscription_secret_rotate,
)

MANAGERS = (Role.COMMISSIONER, Role.PROVIDER)


def _when(moment) -> str:
    return moment.isoformat() if moment else ""


# A token or signing secret is shown once. The POST that makes it redirects (so reloading cannot
# make a second one), and the page it redirects to takes the secret from the session, which
# forgets it as it is shown: a reload, or the back button, finds it gone.
API_CLIENT_CREATED = "integrations:api-client-created"
WEBHOOK_CREATED = "integrations:webhook-created"
WEBHOOK_ROTATED = "integrations:webhook-rotated"


def _take_once(request, key: str) -> dict | None:
    return request.session.pop(key, None)


@never_cache
@role_required(*MANAGERS)
def api_client_list_page(request):
    created = _take_once(request, API_CLIENT_CREATED)
    if created is not None:
        client = api_client_get(actor=request.user, pk=created["pk"])
        return render(request, "integrations/api_client_created.html", {"client": client, "token": created["token"]})
    filters = ApiClientFilterForm(request.GET)
    clients = filters.apply(api_client_list(actor=request.user))
    if request.GET.get("format") == "csv":
        rows = (
            [c.name, c.key_id, " ".join(c.scopes), _when(c.created_at), _when(c.last_used_at), _when(c.revoked_at)]
            for c in clients
        )
        return csv_response(
            "api-clients.csv", ["name", "key_id", "scopes", "created_at", "last_used_at", "revoked_at"], rows
        )
    context = {"clients": list_page(request, clients), "filters": filters}
    return render(request, "integrations/api_client_list.html", context)


@never_cache
@role_required(*MANAGERS)
def api_client_create_page(request):
    form = ApiClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            client, token = api_client_create(
                organisation=request.user.organisation,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                actor=request.user,
            )
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            request.session[API_CLIENT_CREATED] = {"pk": client.pk, "token": token}
            return redirect("integrations:api_clients")
    return render(request, "integrations/api_client_form.html", {"form": form})


@role_required(*MANAGERS)
def api_client_revoke_page(request, pk: int):
    client = api_client_get(actor=request.user, pk=pk)
    form = ConfirmForm(request.POST or None, label="Revoke API client")
    if request.method == "POST":
        try:
            api_client_revoke(client=client, actor=request.user)
        except ACCESS_ERRORS:
            raise
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{client.name} can no longer use the API.")
        return redirect("integrations:api_clients")
    return render(request, "integrations/api_client_revoke.html", {"client": client, "form": form})


@role_required(*MANAGERS)
def webhook_list_page(request):
    filters = WebhookFilterForm(request.GET)
    subscriptions = filters.apply(webhook_subscription_list(actor=request.user))
    if request.GET.get("format") == "csv":
        rows = (
            [s.url, " ".join(s.events), s.description, _when(s.created_at), _when(s.disabled_at)] for s in subscriptions
        )
        return csv_response("webhooks.csv", ["url", "events", "description", "created_at", "disabled_at"], rows)
    context = {"subscriptions": list_page(request, subscriptions), "filters": filters}
    return render(request, "integrations/webhook_list.html", context)


@never_cache
@role_required(*MANAGERS)
def webhook_create_page(request):
    form = WebhookSubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = webhook_subscription_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            request.session[WEBHOOK_CREATED] = {"pk": subscription.pk, "secret": secret}
            return redirect("integrations:webhook_detail", pk=subscription.pk)
    return render(request, "integrations/webhook_form.html", {"form": form})


@never_cache
@role_required(*MANAGERS)
def webhook_detail_page(request, pk: int):
    subscription = webhook_subscription_get(actor=request.user, pk=pk)
    for key, heading in ((WEBHOOK_CREATED, "Webhook added"), (WEBHOOK_ROTATED, "New signing secret made")):
        if request.session.get(key, {}).get("pk") == subscription.pk:
            shown = _take_once(request, key)
            context = {"subscription": subscription, "secret": shown["secret"], "heading": heading}
            return render(request, "integrations/webhook_created.html", context)
    filters = DeliveryFilterForm(request.GET)
    deliveries = filters.apply(webhook_delivery_list(actor=request.user, subscription=subscription))
    if request.GET.get("format") == "csv":
        rows = (
            [d.pk, d.event.type, d.get_status_display(), d.attempt_count, _when(d.created_at), _when(d.delivered_at)]
            for d in deliveries
        )
        return csv_response(
            f"webhook-{subscription.pk}-deliveries.csv",
            ["delivery", "event", "status", "attempts", "created_at", "delivered_at"],
            rows,
        )
    context = {
        "subscription": subscription,
        "deliveries": list_page(request, deliveries),
        "filters": filters,
        "form": ConfirmForm(label="Switch off"),
    }
    return render(request, "integrations/webhook_detail.html", context)


@require_POST
@role_required(*MANAGERS)
def webhook_disable_page(request, pk: int):
    subscription = webhook_subscription_get(actor=request.user, pk=pk)
    try:
        webhook_subscription_disable(actor=request.user, subscription=subscription)
    except ACCESS_ERRORS:
        raise
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The subscription is switched off.")
    return redirect("integrations:webhook_detail", pk=pk)


@never_cache
@role_required(*MANAGERS)
def webhook_rotate_page(request, pk: int):
    """Make a new signing secret, after a page that says what happens to deliveries meanwhile."""
    subscription = webhook_subscription_get(actor=request.user, pk=pk)
    form = ConfirmForm(request.POST or None, label="Make a new secret")
    if request.method == "POST":
        try:
            subscription, secret = webhook_subscription_secret_rotate(actor=request.user, subscription=subscription)
        except ACCESS_ERRORS:
            raise
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            request.session[WEBHOOK_ROTATED] = {"pk": subscription.pk, "secret": secret}
        return redirect("integrations:webhook_detail", pk=subscription.pk)
    return render(request, "integrations/webhook_rotate.html", {"subscription": subscription, "form": form})


@role_required(*MANAGERS)
def webhook_delivery_page(request, pk: int):
    delivery = webhook_delivery_get(actor=request.user, pk=pk)
    if request.method == "POST":
        try:
            webhook_delivery_redeliver(actor=request.user, delivery=delivery)
        except ACCESS_ERRORS:
            raise
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "The delivery will be sent again.")
        return redirect("integrations:webhook_delivery", pk=pk)
    attempts = delivery.attempts.all()
    if request.GET.get("format") == "csv":
        rows = (
            [a.number, a.manual, a.status_code or "", a.error, a.succeeded, _when(a.attempted_at)] for a in attempts
        )
        return csv_response(
            f"delivery-{delivery.pk}-attempts.csv",
            ["attempt", "manual", "status_code", "error", "succeeded", "attempted_at"],
            rows,
        )
    context = {"delivery": delivery, "attempts": attempts, "form": ConfirmForm(label="Redeliver")}
    return render(request, "integrations/webhook_delivery.html", context)
