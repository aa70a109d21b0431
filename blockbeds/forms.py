"""Forms for block contracts and beds. They parse input; the services decide."""

from django import forms

from core.dates import date_filter_check, validate_filter_date
from core.errors import ApplicationError, apply_to_form
from core.forms import DateField, MoneyField, form_helper
from lots.models import Lot
from providers.models import CareHome

from .models import BlockContract, UpliftBasis


def _reason(label: str, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the bed's history with your name and the time.",
    )


class BlockContractForm(forms.Form):
    reference = forms.CharField(label="Contract reference", max_length=64)
    care_home = forms.ModelChoiceField(
        label="Care home",
        queryset=CareHome.objects.filter(registration_status=CareHome.RegistrationStatus.REGISTERED).select_related(
            "provider"
        ),
    )
    contract_type = forms.ChoiceField(label="Type of beds", choices=BlockContract.Type.choices)
    lots = forms.ModelMultipleChoiceField(
        label="Lots the beds serve", queryset=Lot.objects.all(), widget=forms.CheckboxSelectMultiple
    )
    number_of_beds = forms.IntegerField(label="Number of beds", min_value=1, max_value=500)
    weekly_rate = MoneyField(label="Weekly rate per bed", what="a weekly rate per bed")
    start_date = DateField(label="Contract start", what="the date the contract starts")
    end_date = DateField(
        label="Contract end", what="the date the contract ends", help_text="The last day of the contract."
    )
    live_from = DateField(
        label="Beds live (in payment) from",
        what="the date the beds are live from",
        required=False,
        help_text="Leave blank if not yet known; you can set it for each bed later.",
    )
    uplift_basis = forms.ChoiceField(
        label="How the rate is uplifted",
        choices=UpliftBasis.choices,
        widget=forms.RadioSelect,
        help_text=(
            "Fixed: the percentage below from each anniversary of the start date. Index-linked: the "
            "percentage of your index-linked fee uplifts for the contract's lot. As negotiated: only "
            "when you record a new rate."
        ),
    )
    uplift_percentage = forms.DecimalField(
        label="Fixed yearly uplift (%)", required=False, max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    uplift_index = forms.CharField(
        label="Index the rate follows",
        required=False,
        max_length=120,
        help_text="For example: CPI, 12 months to January.",
    )
    uplift_rule = forms.CharField(
        label="Other uplift terms",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything else agreed about uplifts, for the record.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["care_home"].label_from_instance = lambda home: f"{home.name}, {home.town} ({home.provider.name})"
        self.helper = form_helper("Create block contract")


class BlockContractEditForm(forms.Form):
    end_date = DateField(label="Contract end", what="the date the contract ends")
    uplift_basis = forms.ChoiceField(
        label="How the rate is uplifted",
        choices=UpliftBasis.choices,
        widget=forms.RadioSelect,
        help_text=(
            "Fixed: the percentage below from each anniversary of the start date. Index-linked: the "
            "percentage of your index-linked fee uplifts for the contract's lot. As negotiated: only "
            "when you record a new rate."
        ),
    )
    uplift_percentage = forms.DecimalField(
        label="Fixed yearly uplift (%)", required=False, max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    uplift_index = forms.CharField(
        label="Index the rate follows",
        required=False,
        max_length=120,
        help_text="For example: CPI, 12 months to January.",
    )
    uplift_rule = forms.CharField(
        label="Other uplift terms",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything else agreed about uplifts, for the record.",
    )
    reason = _reason("Reason for the change")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Save changes")


class BlockRateForm(forms.Form):
    effective_from = DateField(
        label="New rate from", what="the date the new rate starts", help_text="The first day paid at the new rate."
    )
    weekly_rate = MoneyField(label="New weekly rate per bed", what="a weekly rate per bed")
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example, the negotiation it settles. The provider sees it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record new rate")


class LiveDateForm(forms.Form):
    live_from = DateField(label="Live (in payment) from", what="the date the bed is live from")
    reason = _reason("Reason", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Set live date")


class OutOfServiceForm(forms.Form):
    start_date = DateField(label="Out of service from", what="the date the bed is out of service from")
    reason = _reason("Why is the bed out of service?")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Take bed out of service")


class ReturnToServiceForm(forms.Form):
    end_date = DateField(label="Back in service from", what="the date the bed is back in service")
    reason = _reason("Note", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Return bed to service")


class EndStayForm(forms.Form):
    end_date = DateField(
        label="Bed free from", what="the date the bed is free from", help_text="The first day the bed is empty."
    )
    reason = _reason("Why did the stay end?")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Report the bed void")


class FillForm(forms.Form):
    start_date = DateField(label="Placement starts on", what="the date the placement starts")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Place in this bed")


class DeclineOfferForm(forms.Form):
    reason = forms.CharField(
        label="Why are these block beds not suitable?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Recorded in the request's audit trail. You can then send the request out to tender.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Decline block beds")


class UtilisationRangeForm(forms.Form):
    """The date range of the utilisation page, read from the query string."""

    date_from = forms.DateField(label="From", input_formats=["%Y-%m-%d"], validators=[validate_filter_date])
    date_to = forms.DateField(label="To", input_formats=["%Y-%m-%d"], validators=[validate_filter_date])

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        try:
            date_filter_check({"date_from": start, "date_to": end}, range_of=("date_from", "date_to"))
        except ApplicationError as error:
            apply_to_form(self, error)
        else:
            if start and end and (end - start).days > 3 * 366:
                self.add_error("date_to", "Choose a range of three years or less.")
        return cleaned
