"""Forms of the closure pages: a home closing, one resident's move, ending a block contract, and a
provider's notice."""

from django import forms

from core.forms import DateField, MoneyField, form_helper
from organisations.models import Organisation
from providers.models import CareHome

from .models import ResidentMove


class HomeClosingForm(forms.Form):
    care_home = forms.ModelChoiceField(
        label="Care home", queryset=CareHome.objects.none(), error_messages={"required": "Choose the home"}
    )
    closing_on = DateField(label="Closing on", what="the date the home closes")
    reason = forms.CharField(
        label="Why is the home closing?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the home is closing"},
        help_text="For example: the provider has gone into administration.",
    )

    def __init__(self, *args, homes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["care_home"].queryset = homes if homes is not None else CareHome.objects.none()
        self.fields["care_home"].label_from_instance = lambda home: f"{home.name}, {home.town}"
        self.helper = form_helper("Mark the home as closing", warning=True)


class ResidentMoveForm(forms.Form):
    status = forms.ChoiceField(
        label="Where is the move up to?",
        choices=ResidentMove.Status.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose where the move is up to"},
    )
    planned_move_on = DateField(label="Planned move date", what="the planned move date", required=False)
    moved_on = DateField(
        label="Moved on", what="the day the resident moved", required=False, help_text="Only when they have moved."
    )
    note = forms.CharField(label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Save the move")


class ContractEndForm(forms.Form):
    end_date = DateField(label="Last paid day", what="the contract's last paid day")
    reason = forms.CharField(
        label="Why does the contract end?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the contract ends"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("End the contract", warning=True)


class HandBackForm(forms.Form):
    """A provider's notice on a placement or a block contract (`choices` is the queryset)."""

    item = forms.ModelChoiceField(label="", queryset=CareHome.objects.none())
    notice_ends_on = DateField(label="Last day of care", what="the last day of care")
    reason = forms.CharField(
        label="Why are you handing it back?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why you are handing it back"},
    )

    def __init__(self, *args, choices=None, label: str = "", label_from=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["item"]
        field.queryset = choices
        field.label = label
        field.error_messages["required"] = f"Choose the {label.lower()}"
        if label_from is not None:
            field.label_from_instance = label_from
        self.helper = form_helper("Give notice", warning=True)


class OffDpsChoiceForm(forms.Form):
    cqc_location_id = forms.CharField(
        label="The chosen home's CQC location ID",
        max_length=20,
        help_text="Any care home registered with the CQC, for example 1-123456789.",
        error_messages={"required": "Enter the chosen home's CQC location ID"},
    )
    terms_accepted = forms.BooleanField(
        label="The home accepts the council's terms and conditions for this placement",
        required=False,
    )
    weekly_fee = MoneyField(label="Weekly fee agreed with the home", what="the weekly fee")
    start_date = DateField(label="Moves in on", what="the day the person moves in")
    reason = forms.CharField(
        label="Why did the person choose this home?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the person chose this home"},
    )
    host_council = forms.ModelChoiceField(
        label="Council where the home is (optional)",
        queryset=Organisation.objects.none(),
        required=False,
        help_text="We tell its commissioners the person has been placed in their area.",
    )

    def __init__(self, *args, commissioner=None, **kwargs):
        super().__init__(*args, **kwargs)
        councils = Organisation.objects.filter(kind=Organisation.Kind.COUNCIL, is_active=True).order_by("name")
        if commissioner is not None:
            councils = councils.exclude(pk=commissioner.pk)
        self.fields["host_council"].queryset = councils
        self.helper = form_helper("Place on a spot contract by choice")

    def clean_cqc_location_id(self):
        value = self.cleaned_data["cqc_location_id"].strip()
        home = CareHome.objects.filter(cqc_location_id=value).select_related("provider").first()
        if home is None:
            raise forms.ValidationError("No care home has that CQC location ID.")
        self.cleaned_data["care_home"] = home
        return value
