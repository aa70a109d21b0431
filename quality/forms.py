from crispy_forms_gds.fields import DateInputField
from django import forms

from core.forms import form_helper

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
        self.helper = form_helper("Record rating")
