from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Size, Submit
from django import forms

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
        self.helper = FormHelper()
        self.helper.label_size = Size.SMALL
        self.helper.add_input(Submit("submit", "Save lot rules"))
