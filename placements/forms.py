from decimal import Decimal

from django import forms

from core.forms import DateField, MoneyField, form_helper
from core.templatetags.govuk import money
from lots.models import Lot
from providers.models import CareHome, Specialism
from providers.postcodes import MALFORMED, postcode_normalise

from .models import Placement


class PlacementRequestForm(forms.Form):
    case_reference = forms.CharField(
        max_length=64, help_text="The person's reference in your case system. Providers never see it before award."
    )
    lot = forms.ModelChoiceField(queryset=Lot.objects.all(), empty_label=None)
    needs_summary = forms.CharField(
        label="Needs profile",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown to invited providers. Do not include names, addresses or dates of birth.",
    )
    specialisms = forms.ModelMultipleChoiceField(
        queryset=Specialism.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    local_authority = forms.CharField(
        max_length=100, required=False, help_text="Homes in this local authority are invited."
    )
    postcode = forms.CharField(
        label="Postcode",
        required=False,
        help_text="For example, ST16 2LL. Homes within the maximum distance of it are invited.",
    )
    max_distance_km = forms.DecimalField(
        label="Maximum distance (km)",
        max_digits=6,
        decimal_places=1,
        required=False,
        min_value=0,
        help_text="Homes within this distance of the location are invited too.",
    )
    needed_from = DateField(
        label="Needed from", what="the date the placement is needed from", help_text="For example, 27 3 2027."
    )
    max_weekly_rate = MoneyField(
        label="Maximum weekly rate",
        what="a maximum weekly rate",
        min_value=Decimal("0.01"),
        required=False,
        help_text="Leave blank for the lot's guide fee.",
    )
    preferred_home = forms.ModelChoiceField(
        queryset=CareHome.objects.filter(registration_status=CareHome.RegistrationStatus.REGISTERED),
        required=False,
        help_text="The person's preferred home, if they have one.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Save request")

    def clean_postcode(self):
        value = self.cleaned_data["postcode"].strip()
        if not value:
            return ""
        written = postcode_normalise(value)
        if written is None:
            raise forms.ValidationError(MALFORMED)
        return written


class PublishForm(forms.Form):
    closes_at = forms.DateTimeField(
        label="Bids close at",
        required=False,
        widget=forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"}),
        help_text="Leave blank for the lot's usual window.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Publish to tender")


class AwardForm(forms.Form):
    bid = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Bid to award")
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required unless you award the top-ranked bid: the person's choice, needs, family nearby...",
    )
    top_up_payer = forms.CharField(
        label="Who pays the top-up",
        required=False,
        max_length=200,
        help_text="Needed when the fee is above the council's maximum rate.",
    )
    start_date = DateField(
        label="Start date",
        what="the start date",
        required=False,
        help_text="Leave blank for the bid's earliest start date.",
    )
    standstill_waiver_reason = forms.CharField(
        label="Urgent placement: reason to waive the standstill",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when the lot has a standstill period and the person cannot wait for it.",
    )

    def __init__(self, *args, bids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bid"].choices = [
            (bid.pk, f"{bid.rank}. {bid.care_home.name}: {money(bid.weekly_fee)} a week, score {bid.total_score}")
            for bid in bids
        ]
        self.helper = form_helper("Award placement")


class CancelForm(forms.Form):
    reason = forms.CharField(label="Reason for cancelling", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Cancel request", warning=True)


class RetenderForm(forms.Form):
    max_weekly_rate = MoneyField(label="Maximum weekly rate", what="a maximum weekly rate", min_value=Decimal("0.01"))
    local_authority = forms.CharField(max_length=100, required=False)
    max_distance_km = forms.DecimalField(
        label="Maximum distance (km)", max_digits=6, decimal_places=1, required=False, min_value=0
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Tender again")


class AssessmentOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome of the assessment",
        choices=Placement.AssessmentOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the outcome of the assessment"},
        help_text="Long-term in another home raises a new request for a long-term home.",
    )
    on = DateField(
        label="Date the outcome took effect",
        what="the date the outcome took effect",
        help_text="For example, 27 3 2027.",
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the review decided and who took part. Do not include names.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record outcome")
