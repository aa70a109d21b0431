"""Dashboard filters. The same forms read page query strings, API query strings and command options."""

import re
from datetime import date

from crispy_forms_gds.helper import FormHelper
from django import forms
from django.utils import timezone

from core.dates import date_filter_check, validate_filter_date
from core.errors import ApplicationError, apply_to_form
from core.forms import form_helper
from lots.models import Urgency

from .reports.at_risk import AT_RISK_DAYS
from .reports.common import default_month_range, last_day, month_label

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _helper(label: str) -> FormHelper:
    return form_helper(label, method="get", name="apply", small_labels=False)


class MonthField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=7, **kwargs)
        self.widget.attrs.update({"class": "govuk-input govuk-input--width-5", "placeholder": "YYYY-MM"})

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        match = MONTH.match(value.strip())
        if not match or not 1 <= int(match[2]) <= 12:
            raise forms.ValidationError("Enter a month as year and month, for example 2023-10.")
        # Year 0000 has no date in Python: it is refused like any other year out of bounds.
        month = date(max(int(match[1]), 1), int(match[2]), 1)
        validate_filter_date(month)
        return month


class MonthRangeForm(forms.Form):
    """`from` and `to` months (inclusive); by default the last twelve months."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        first, last = default_month_range()
        self.fields["from"] = MonthField(
            label="From month", required=False, help_text=f"For example {month_label(first)}"
        )
        self.fields["to"] = MonthField(label="To month", required=False, help_text=f"For example {month_label(last)}")
        self.helper = _helper("Show figures")

    def clean(self):
        cleaned = super().clean()
        first, last = default_month_range()
        month_to = cleaned.get("to") or last
        month_from = cleaned.get("from") or (
            first if not cleaned.get("to") else date(month_to.year - 1, month_to.month, 1)
        )
        if "from" in self.errors or "to" in self.errors:
            return cleaned
        try:
            # The last month counts to its last day: 2015-01 to 2024-12 is ten years.
            date_filter_check({"from": month_from, "to": last_day(month_to)}, range_of=("from", "to"))
        except ApplicationError as error:
            apply_to_form(self, error)
        cleaned["month_from"], cleaned["month_to"] = month_from, month_to
        return cleaned

    def params(self) -> dict:
        return {"month_from": self.cleaned_data["month_from"], "month_to": self.cleaned_data["month_to"]}


class TimelinessForm(MonthRangeForm):
    """The month range, and optionally one urgency of request (hospital discharge, urgent, planned)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["urgency"] = forms.ChoiceField(
            label="Urgency",
            required=False,
            choices=[("", "All requests"), *Urgency.choices],
            help_text="Placements whose request had this urgency; imported history counts as planned.",
        )

    def params(self) -> dict:
        return {**super().params(), "urgency": self.cleaned_data.get("urgency") or None}


class AtDateForm(forms.Form):
    at = forms.DateField(
        label="Active on",
        required=False,
        help_text="A date as year-month-day, for example 2024-01-31. Today when left empty.",
        input_formats=["%Y-%m-%d"],
        validators=[validate_filter_date],
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Show figures")

    def params(self) -> dict:
        return {"at": self.cleaned_data.get("at") or timezone.localdate()}


class AtRiskForm(forms.Form):
    within_days = forms.IntegerField(
        label="Target date within (days)",
        required=False,
        min_value=0,
        max_value=60,
        help_text=f"Requests already past their target date are always shown. {AT_RISK_DAYS} when left empty.",
        widget=forms.NumberInput(attrs={"class": "govuk-input govuk-input--width-3"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Show requests")

    def params(self) -> dict:
        within = self.cleaned_data.get("within_days")
        return {"within_days": AT_RISK_DAYS if within is None else within}


class NoFilterForm(forms.Form):
    helper = None

    def params(self) -> dict:
        return {}
