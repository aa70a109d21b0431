import re
from datetime import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone

from core.forms import DateField, MoneyField, form_helper
from core.templatetags.govuk import money
from lots.models import Lot
from organisations.models import Organisation
from providers.models import CareHome, Specialism
from providers.postcodes import MALFORMED, postcode_normalise

from .models import Pathway, Placement, Urgency

TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


class DischargeFields(forms.Form):
    """When the person is ready to leave hospital (a GOV.UK date and a 24-hour time, Europe/London),
    the pathway and the ward contact: the referral form's and the broker's request form's."""

    ward_contact = forms.CharField(
        label="Ward contact",
        max_length=200,
        required=False,
        help_text="The ward and who to call there, for example: Ward 7, Sam Lee, 01785 000000.",
    )
    ready_for_discharge_at = DateField(
        label="Date the person is ready to leave hospital",
        what="the date the person is ready to leave hospital",
        required=False,
        help_text="For example, 27 3 2027. The person no longer needs a hospital bed from then.",
    )
    ready_time = forms.CharField(
        label="Time the person is ready (24-hour clock)",
        max_length=5,
        required=False,
        help_text="For example, 14:30. UK time.",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-5", "inputmode": "numeric"}),
    )
    pathway = forms.ChoiceField(
        label="Discharge pathway",
        choices=Pathway.choices,
        required=False,
        widget=forms.RadioSelect,
    )

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("ready_for_discharge_at"), (cleaned.get("ready_time") or "").strip()
        if day is None:
            if time:
                self.add_error("ready_for_discharge_at", "Enter the date the person is ready to leave hospital")
            return cleaned
        if not time:
            self.add_error("ready_time", "Enter the time the person is ready, like 14:30")
            return cleaned
        match = TIME_OF_DAY.match(time)
        if not match:
            self.add_error("ready_time", "Enter a time on the 24-hour clock, like 09:00 or 14:30")
            return cleaned
        moment = datetime(day.year, day.month, day.day, int(match.group(1)), int(match.group(2)))
        cleaned["ready_for_discharge_at"] = timezone.make_aware(moment)
        return cleaned

    def discharge_values(self) -> dict:
        data = self.cleaned_data
        return {
            "ward_contact": data.get("ward_contact", ""),
            "ready_for_discharge_at": data.get("ready_for_discharge_at"),
            "pathway": data.get("pathway", ""),
        }


class PlacementRequestForm(DischargeFields):
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
    urgency = forms.ChoiceField(
        label="How urgent is it?",
        choices=Urgency.choices,
        initial=Urgency.PLANNED,
        required=False,
        widget=forms.RadioSelect,
        help_text="Urgent requests are measured in hours and go to the top of the work queue.",
    )
    hospital = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        label="Hospital the person is leaving",
        help_text="Hospital discharges only.",
    )
    field_order = [
        "case_reference",
        "lot",
        "urgency",
        "hospital",
        "ward_contact",
        "ready_for_discharge_at",
        "ready_time",
        "pathway",
    ]

    def __init__(self, *args, commissioner=None, **kwargs):
        super().__init__(*args, **kwargs)
        if commissioner is not None:
            self.fields["hospital"].queryset = commissioner.referring_hospitals.filter(is_active=True).order_by("name")
        self.helper = form_helper("Save request")

    def clean_urgency(self):
        # The page checks "planned" from the start; a post without a choice means the same, as over the API.
        return self.cleaned_data["urgency"] or Urgency.PLANNED

    def clean_postcode(self):
        value = self.cleaned_data["postcode"].strip()
        if not value:
            return ""
        written = postcode_normalise(value)
        if written is None:
            raise forms.ValidationError(MALFORMED)
        return written

    def request_values(self) -> dict:
        values = {name: value for name, value in self.cleaned_data.items() if name != "ready_time"}
        return {**values, **self.discharge_values()}


class ReferralForm(DischargeFields):
    """A discharge coordinator's referral of a person ready to leave hospital."""

    commissioner = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        label="Council or NHS body",
        empty_label=None,
        help_text="The body that arranges the person's care home placement.",
    )
    case_reference = forms.CharField(
        label="Person's reference",
        max_length=64,
        help_text="The hospital number or the council's case reference. Care homes never see it before award.",
    )
    lot = forms.ModelChoiceField(queryset=Lot.objects.all(), empty_label=None, label="Type of care")
    needs_summary = forms.CharField(
        label="Needs profile",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown to invited care homes. Do not include names, addresses or dates of birth.",
    )
    specialisms = forms.ModelMultipleChoiceField(
        queryset=Specialism.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    postcode = forms.CharField(
        label="Postcode of the person's home",
        required=False,
        help_text="Homes near it are invited. Leave blank to invite homes in the council's area.",
    )
    field_order = [
        "commissioner",
        "case_reference",
        "lot",
        "ready_for_discharge_at",
        "ready_time",
        "pathway",
        "ward_contact",
        "needs_summary",
        "specialisms",
        "postcode",
    ]

    def __init__(self, *args, bodies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commissioner"].queryset = bodies if bodies is not None else Organisation.objects.none()
        self.fields["ward_contact"].required = True
        self.fields["ready_for_discharge_at"].required = True
        self.fields["ready_time"].required = True
        self.fields["ready_time"].error_messages["required"] = "Enter the time the person is ready, like 14:30"
        self.fields["pathway"].required = True
        self.fields["pathway"].error_messages["required"] = "Choose the discharge pathway"
        self.fields["ward_contact"].error_messages["required"] = "Enter the ward and who to contact there"
        self.helper = form_helper("Send referral")

    def referral_values(self) -> dict:
        data = self.cleaned_data
        return {
            "commissioner": data["commissioner"],
            "case_reference": data["case_reference"],
            "lot": data["lot"],
            "needs_summary": data["needs_summary"],
            "specialisms": data["specialisms"],
            "postcode": data["postcode"],
            **self.discharge_values(),
        }

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
