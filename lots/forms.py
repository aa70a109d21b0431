from django import forms

from core.forms import DateField, form_helper

from .models import LotRules, UrgencyRules
from .services import EDITABLE_FIELDS, URGENCY_EDITABLE_FIELDS


class LotRulesForm(forms.ModelForm):
    reason = forms.CharField(
        label="Reason for the change",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the audit trail with your name and the time.",
    )

    class Meta:
        model = LotRules
        fields = EDITABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Save lot rules")


class UrgencyRulesForm(forms.ModelForm):
    reason = forms.CharField(
        label="Reason for the change",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the audit trail with your name and the time.",
    )

    class Meta:
        model = UrgencyRules
        fields = URGENCY_EDITABLE_FIELDS
        labels = {
            "target_hours": "Target (hours)",
            "min_window_hours": "Shortest tender window (hours)",
            "default_window_hours": "Usual tender window (hours)",
            "max_window_hours": "Longest tender window (hours)",
            "award_rule": "How the tender is awarded",
            "assessment_days": "Discharge to assess: assessment period (days)",
            "vacancy_fresh_hours": "A vacancy is fresh for (hours)",
            "reminder_minutes_before_close": "Remind invited homes before the close (minutes)",
        }
        widgets = {"award_rule": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Save urgency rules")


class ExtensionForm(forms.Form):
    decision_reference = forms.CharField(
        label="Decision reference",
        max_length=120,
        required=False,
        help_text="The record of the decision to extend, for example a cabinet or delegated decision reference.",
    )
    decided_on = DateField(label="Decided on", what="the date of the decision")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record the extension")
