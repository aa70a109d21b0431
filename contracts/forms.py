from decimal import Decimal

from django import forms

from core.forms import DateField, MoneyField, form_helper
from lots.models import ClientGroup, Lot

from .models import TopUpAgreement, Uplift


class UpliftForm(forms.Form):
    """An uplift's basis and date, and a percentage or new weekly rate per lot or client group."""

    name = forms.CharField(label="Name", max_length=120, help_text="For example, April 2026 uplift.")
    basis = forms.ChoiceField(label="Basis", choices=Uplift.Basis.choices, widget=forms.RadioSelect)
    basis_note = forms.CharField(
        label="How the uplift was worked out",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example, the index and month used, or the Real Living Wage rate.",
    )
    effective_from = DateField(label="Effective from", what="the date the uplift takes effect")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lots = list(Lot.objects.order_by("number"))
        for value, label in ClientGroup.choices:
            self.fields[f"group_{value}"] = forms.DecimalField(
                label=f"{label}: uplift (%)", required=False, max_digits=5, decimal_places=2, min_value=Decimal("0.01")
            )
        for lot in self.lots:
            self.fields[f"lot_{lot.number}_percentage"] = forms.DecimalField(
                label=f"Lot {lot.number} ({lot.name}): uplift (%)",
                required=False,
                max_digits=5,
                decimal_places=2,
                min_value=Decimal("0.01"),
                help_text="Overrides the client group's percentage.",
            )
            self.fields[f"lot_{lot.number}_rate"] = MoneyField(
                label=f"Lot {lot.number} ({lot.name}): new weekly rate",
                what="a new weekly rate",
                required=False,
                min_value=Decimal("0.01"),
                help_text="Fees below this rate rise to it.",
            )
        self.helper = form_helper("Save and preview")

    def clean(self):
        cleaned = super().clean()
        for lot in self.lots:
            if cleaned.get(f"lot_{lot.number}_percentage") and cleaned.get(f"lot_{lot.number}_rate"):
                self.add_error(f"lot_{lot.number}_rate", "Give a percentage or a new rate for a lot, not both.")
        return cleaned

    def rules(self) -> list[dict]:
        rules = [
            {"client_group": value, "percentage": self.cleaned_data[f"group_{value}"]}
            for value, _ in ClientGroup.choices
            if self.cleaned_data.get(f"group_{value}")
        ]
        for lot in self.lots:
            if percentage := self.cleaned_data.get(f"lot_{lot.number}_percentage"):
                rules.append({"lot": lot, "percentage": percentage})
            elif rate := self.cleaned_data.get(f"lot_{lot.number}_rate"):
                rules.append({"lot": lot, "new_weekly_rate": rate})
        return rules


class PeriodForm(forms.Form):
    period = forms.CharField(
        label="Period",
        max_length=12,
        help_text="An ISO week such as 2026-W15, or four weeks from one such as 2026-W15/4.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Show schedule", method="get")


class FeeChangeForm(forms.Form):
    effective_from = DateField(label="New fee from", what="the date the new fee starts")
    council_weekly_amount = MoneyField(label="Council's weekly amount", what="the council's weekly amount")
    top_up_weekly_amount = MoneyField(label="Third-party top-up", what="the weekly top-up", initial=0)
    note = forms.CharField(label="Reason for the change", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record fee change")


class PlacementEndForm(forms.Form):
    end_date = DateField(
        label="Last day of the placement",
        what="the last day of the placement",
        help_text="The last day the home is paid for.",
    )
    reason = forms.CharField(label="Why the placement ended", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record the end")


class TopUpAgreementForm(forms.Form):
    payer_name = forms.CharField(label="Who pays the top-up", max_length=200)
    relationship = forms.CharField(
        label="Their relationship to the person", max_length=100, help_text="For example, daughter or friend."
    )
    weekly_amount = MoneyField(label="Weekly top-up agreed", what="the weekly top-up agreed", min_value=Decimal("0.01"))
    starts_on = DateField(label="Top-up paid from", what="the date the top-up is paid from")
    signed_via = forms.ChoiceField(
        label="How the agreement was signed", choices=TopUpAgreement.SignedVia.choices, widget=forms.RadioSelect
    )
    signed_on = DateField(label="Date signed", what="the date the agreement was signed")
    affordability_confirmed = forms.BooleanField(
        label="I have checked the payer can afford the top-up for the likely length of the stay",
        required=False,
    )
    affordability_note = forms.CharField(
        label="How affordability was checked", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record the top-up agreement")


class TopUpStopForm(forms.Form):
    on = DateField(label="The council pays the top-up from", what="the date the council pays the top-up from")
    reason = forms.CharField(label="Why the top-up stopped", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Stop the top-up", warning=True)
