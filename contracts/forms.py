from decimal import Decimal

from django import forms

from core.forms import DateField, MoneyField, form_helper
from lots.models import ClientGroup, Lot

from .models import Absence, PayerType, Route, TopUpAgreement, Uplift
from .selectors import Share


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


class AbsenceForm(forms.Form):
    kind = forms.ChoiceField(label="Why is the person away?", choices=Absence.Kind.choices, widget=forms.RadioSelect)
    starts_on = DateField(label="First day away", what="the first day away")
    ends_on = DateField(
        label="Last day away (optional)",
        what="the last day away",
        required=False,
        help_text="Leave empty while the person is still away.",
    )
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record the absence")


class AbsenceEndForm(forms.Form):
    ends_on = DateField(
        label="Last day away", what="the last day away", help_text="The day before the person came back."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record the return")


class DeathForm(forms.Form):
    died_on = DateField(label="Date of death", what="the date of death")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record the death", warning=True)


FUNDING_ROWS = 5


class FundingChangeForm(forms.Form):
    """New shares of the fee from a date: one row per payer (payer type, who, route, weekly amount).

    Whether the shares add up to the fee is the service's rule (`funding_shares_change`); its refusal
    is shown on the first share's amount."""

    effective_from = DateField(label="New shares from", what="the date the new shares start")

    def __init__(self, *args, nhs_bodies=(), rows: int = FUNDING_ROWS, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        payer_types = [("", "Not used"), *PayerType.choices]
        bodies = [("", "None (name the payer instead)"), *((str(o.pk), o.name) for o in nhs_bodies)]
        for i in range(1, rows + 1):
            self.fields[f"share_{i}_payer_type"] = forms.ChoiceField(
                label=f"Share {i}: who pays", choices=payer_types, required=False
            )
            self.fields[f"share_{i}_payer_name"] = forms.CharField(
                label=f"Share {i}: payer's name",
                required=False,
                max_length=200,
                help_text="For a contribution or top-up, the person or family member. Not needed for the council.",
            )
            self.fields[f"share_{i}_payer_organisation"] = forms.ChoiceField(
                label=f"Share {i}: NHS body", choices=bodies, required=False, help_text="For an NHS share."
            )
            self.fields[f"share_{i}_route"] = forms.ChoiceField(
                label=f"Share {i}: how it is paid", choices=Route.choices, initial=Route.GROSS
            )
            self.fields[f"share_{i}_weekly_amount"] = MoneyField(
                label=f"Share {i}: weekly amount", what=f"share {i}'s weekly amount", required=False
            )
        self.fields["reason"] = forms.CharField(
            label="Why who pays is changing", widget=forms.Textarea(attrs={"rows": 3})
        )
        self.helper = form_helper("Change who pays")

    @staticmethod
    def initial_for(effective_from, shares) -> dict:
        initial = {"effective_from": effective_from}
        for i, share in enumerate(shares, start=1):
            initial |= {
                f"share_{i}_payer_type": share.payer_type,
                f"share_{i}_payer_name": share.payer_name,
                f"share_{i}_payer_organisation": str(share.payer_organisation_id or "")
                if share.payer_type != PayerType.COUNCIL
                else "",
                f"share_{i}_route": share.route,
                f"share_{i}_weekly_amount": share.weekly_amount,
            }
        return initial

    def clean(self):
        cleaned = super().clean()
        used = 0
        for i in range(1, self.rows + 1):
            payer_type = cleaned.get(f"share_{i}_payer_type")
            amount = cleaned.get(f"share_{i}_weekly_amount")
            if payer_type and amount is None and f"share_{i}_weekly_amount" not in self.errors:
                self.add_error(f"share_{i}_weekly_amount", f"Enter share {i}'s weekly amount")
            elif amount is not None and not payer_type:
                self.add_error(f"share_{i}_payer_type", f"Choose who pays share {i}")
            used += bool(payer_type)
        if not used and not self.errors:
            self.add_error("share_1_payer_type", "Choose who pays share 1")
        return cleaned

    def shares(self) -> list[Share]:
        return [
            Share(
                payer_type=self.cleaned_data[f"share_{i}_payer_type"],
                weekly_amount=self.cleaned_data[f"share_{i}_weekly_amount"],
                route=self.cleaned_data[f"share_{i}_route"],
                payer_organisation_id=int(self.cleaned_data[f"share_{i}_payer_organisation"] or 0) or None,
                payer_name=self.cleaned_data[f"share_{i}_payer_name"],
            )
            for i in range(1, self.rows + 1)
            if self.cleaned_data.get(f"share_{i}_payer_type")
        ]

    def first_share_field(self) -> str:
        used = [i for i in range(1, self.rows + 1) if self.cleaned_data.get(f"share_{i}_payer_type")]
        return f"share_{used[0] if used else 1}_weekly_amount"


class PaymentRulesForm(forms.Form):
    absence_full_weeks = forms.IntegerField(
        label="Weeks of an absence paid at the full fee",
        min_value=0,
        max_value=52,
        help_text="For example, 6: the home is paid in full for the first six weeks a resident is away.",
    )
    absence_reduced_percent = forms.DecimalField(
        label="Percentage of the fee paid after that, while the resident is away",
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
    )
    death_paid_days = forms.IntegerField(
        label="Days paid after a resident's death", min_value=0, max_value=28, help_text="For example, 3."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Save the payment rules")


class FncRateForm(forms.Form):
    effective_from = DateField(label="Rate from", what="the date the rate applies from")
    weekly_rate = MoneyField(label="Weekly rate", what="the weekly rate", min_value=Decimal("0.01"))
    note = forms.CharField(
        label="Where the rate comes from (optional)",
        required=False,
        max_length=200,
        help_text="For example, the announcement of the rate.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record the rate and apply it")


class OutcomeRuleForm(forms.Form):
    outcome = forms.ChoiceField(label="The outcome that earns the payment", choices=(), widget=forms.RadioSelect)
    lot = forms.ModelChoiceField(label="Lot", queryset=Lot.objects.none(), required=False, empty_label="No lot")
    block_contract = forms.ModelChoiceField(
        label="Or block contract", queryset=None, required=False, empty_label="No block contract"
    )
    amount = MoneyField(label="Amount", what="the amount", per_week=False, min_value=Decimal("0.01"))
    description = forms.CharField(label="Description", max_length=200, help_text="What the payment is for.")
    within_assessment_period = forms.BooleanField(
        label="Only when the outcome is reached within the assessment period", required=False, initial=True
    )

    def __init__(self, *args, outcomes=(), block_contracts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = outcomes
        self.fields["lot"].queryset = Lot.objects.order_by("number")
        self.fields["block_contract"].queryset = block_contracts
        self.helper = form_helper("Create the rule")
