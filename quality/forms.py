from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Size, Submit
from django import forms

from .models import KEY_QUESTIONS, RatingValue

LABELS = {"well_led": "Well-led"}


class RatingForm(forms.Form):
    overall = forms.ChoiceField(label="Overall", choices=RatingValue.choices)
    report_date = DateInputField(label="Date the CQC published the report")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in KEY_QUESTIONS:
            self.fields[name] = forms.ChoiceField(
                label=LABELS.get(name, name.capitalize()), choices=RatingValue.choices, initial=RatingValue.NOT_RATED
            )
        self.helper = FormHelper()
        self.helper.label_size = Size.SMALL
        self.helper.add_input(Submit("submit", "Record rating"))
