from django import forms

from core.forms import form_helper

from .models import LotRules
from .services import EDITABLE_FIELDS


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
