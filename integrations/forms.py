from django import forms

from core.forms import form_helper
from organisations.models import ApiClient

from .models import WebhookEvent


class ApiClientForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="The system that will call the API, e.g. Mosaic case system.")
    scopes = forms.MultipleChoiceField(
        choices=ApiClient.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every client needs Read to follow what it creates.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Create API client", small_labels=False)


class WebhookSubscriptionForm(forms.Form):
    url = forms.URLField(label="Receiving address (URL)", max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=WebhookEvent.Type.choices, widget=forms.CheckboxSelectMultiple)
    description = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Subscribe", small_labels=False)


class ConfirmForm(forms.Form):
    """A button that POSTs; the page around it says what it does."""

    def __init__(self, *args, label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper(label, small_labels=False)
