from decimal import Decimal

from django import forms

from core.forms import DateField, MoneyField, form_helper


class BidForm(forms.Form):
    weekly_fee = MoneyField(label="Weekly fee", what="a weekly fee", min_value=Decimal("0.01"))
    earliest_start = DateField(
        label="Earliest start date", what="the earliest start date", help_text="For example, 27 3 2027."
    )
    needs_confirmed = forms.BooleanField(label="I confirm the home can meet the needs described", required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, submit_label: str = "Submit bid", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper(submit_label)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="Reason (optional)", required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Withdraw bid", warning=True)
