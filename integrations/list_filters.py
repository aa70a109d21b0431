"""The filters above the lists of API clients and webhook subscriptions."""

from django import forms
from django.db.models import QuerySet

from core.lists import ListFilterForm

from .models import WebhookDelivery


class ApiClientFilterForm(ListFilterForm):
    state = forms.ChoiceField(label="State", choices=[("", "All"), ("active", "Active"), ("revoked", "Revoked")])

    def apply(self, clients: QuerySet) -> QuerySet:
        state = self.filters().get("state")
        if state:
            clients = clients.filter(revoked_at__isnull=state == "active")
        return clients


class WebhookFilterForm(ListFilterForm):
    state = forms.ChoiceField(label="State", choices=[("", "All"), ("on", "On"), ("off", "Off")])

    def apply(self, subscriptions: QuerySet) -> QuerySet:
        state = self.filters().get("state")
        if state:
            subscriptions = subscriptions.filter(disabled_at__isnull=state == "on")
        return subscriptions


class DeliveryFilterForm(ListFilterForm):
    status = forms.ChoiceField(label="Status", choices=[("", "All"), *WebhookDelivery.Status.choices])

    def apply(self, deliveries: QuerySet) -> QuerySet:
        status = self.filters().get("status")
        return deliveries.filter(status=status) if status else deliveries
