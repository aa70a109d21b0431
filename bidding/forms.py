from django import forms

from core.forms import form_helper


class BidForm(forms.Form):
    weekly_fee = forms.DecimalField(label="Weekly fee (£)", max_digits=10, decimal_places=2, min_value=0)
    earliest_start = forms.DateField(
        label="Earliest start date", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
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
