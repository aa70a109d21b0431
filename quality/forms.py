from django import forms

from core.forms import DateField, form_helper

from .models import KEY_QUESTIONS, RatingValue

LABELS = {"well_led": "Well-led"}


class RatingForm(forms.Form):
    # A blank first option: a select with none would show, and submit, "Outstanding" untouched.
    overall = forms.ChoiceField(
        label="Overall",
        choices=[("", "Choose the overall rating"), *RatingValue.choices],
        error_messages={"required": "Choose the overall rating from the CQC's report."},
    )
    report_date = DateField(
        label="Date the CQC published the report",
        what="the date the CQC published the report",
        help_text="As printed on the CQC's report, for example 27 3 2026.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in KEY_QUESTIONS:
            self.fields[name] = forms.ChoiceField(
                label=LABELS.get(name, name.capitalize()), choices=RatingValue.choices, initial=RatingValue.NOT_RATED
            )
        self.helper = form_helper("Record rating")
