from django import forms

from core.forms import DateField, form_helper
from core.widgets import TextInput
from lots.models import Lot

from .models import (
    KEY_QUESTIONS,
    QUALITY_PARTS,
    Concern,
    ImprovementAction,
    QualityScoringRule,
    RatingValue,
    ReturnMeasure,
)

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


class MonitoringQuestionForm(forms.Form):
    domain = forms.CharField(label="Domain", max_length=120, required=False, help_text="For example, Safeguarding.")
    text = forms.CharField(label="Question", max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Add question", name="add_question")


class MonitoringScaleForm(forms.Form):
    scale_max = forms.TypedChoiceField(
        label="Highest score",
        coerce=int,
        choices=[(n, f"1 to {n}") for n in range(2, 11)],
        help_text="Each question is scored from 1 to this. Visits already recorded keep their scale.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Save scale", name="set_scale")


class MonitoringVisitForm(forms.Form):
    """The visit's date, visitor and findings, and one score per current question of the framework."""

    visited_on = DateField(label="Date of the visit", what="the date of the visit")
    visitor = forms.CharField(
        label="Visitor", max_length=120, required=False, help_text="Who visited, for example the quality officer."
    )
    findings = forms.CharField(label="Findings", widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args, questions=(), scale_max: int = 4, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        choices = [("", "Choose a score"), *((n, str(n)) for n in range(1, scale_max + 1))]
        for question in self.questions:
            self.fields[f"q{question.pk}"] = forms.TypedChoiceField(
                label=f"{question.domain}: {question.text}",
                choices=choices,
                coerce=int,
                required=False,
                empty_value=None,
            )
        self.helper = form_helper("Record visit")

    def scores(self) -> dict[int, int | None]:
        return {question.pk: self.cleaned_data.get(f"q{question.pk}") for question in self.questions}


class ConcernForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=Concern.Kind.choices, widget=forms.RadioSelect, required=False)
    received_on = DateField(label="Date received", what="the date the concern was received")
    category = forms.ChoiceField(
        label="Category", choices=[("", "Choose the category"), *Concern.Category.choices], required=False
    )
    severity = forms.ChoiceField(
        label="Severity", choices=Concern.Severity.choices, widget=forms.RadioSelect, required=False
    )
    reference = forms.CharField(
        label="Your case reference",
        max_length=60,
        required=False,
        help_text="A reference only: do not enter names or other personal details.",
    )
    embargo = forms.BooleanField(
        label="Place an embargo: no new placements from your body until lifted by a decision", required=False
    )
    review_on = DateField(label="Embargo review date", what="the embargo review date", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record concern")


class ConcernUpdateForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Concern.Status.choices, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(label="Outcome", choices=Concern.Outcome.choices, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Save", name="update")


class EmbargoPlaceForm(forms.Form):
    review_on = DateField(label="Embargo review date", what="the embargo review date")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Place embargo", name="place", warning=True)


class EmbargoLiftForm(forms.Form):
    decision = forms.CharField(
        label="Decision to lift the embargo",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Who decided, when and why the home may take placements from your body again.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Lift embargo", name="lift")


class ImprovementActionForm(forms.Form):
    action = forms.CharField(label="Action", max_length=300, required=False)
    owner = forms.CharField(
        label="Owner", max_length=120, required=False, help_text="Who at the home does it, for example the manager."
    )
    due_on = DateField(label="Due date", what="the date the action is due")
    agreed_on = DateField(label="Date agreed with the provider", what="the date the action was agreed")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Add action")


class ImprovementActionUpdateForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=ImprovementAction.Status.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="Progress", widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="What has been done."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Save progress")


class QualityScoringRuleForm(forms.Form):
    """The five weights in whole %, adding up to 100 (the service checks the sum)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for part in QUALITY_PARTS:
            label = QualityScoringRule._meta.get_field(part).verbose_name
            self.fields[part] = forms.IntegerField(
                label=f"{label[:1].upper()}{label[1:]} (%)",
                min_value=0,
                max_value=100,
                required=False,
                widget=TextInput(attrs={"inputmode": "numeric"}, suffix="%", width=3),
            )
        self.helper = form_helper("Save how quality is scored")


def return_field_name(measure) -> str:
    """A measure's field: its id, or for a default measure not yet kept, its place in the set (the
    place it is kept at, so an answer given before the body's measures were kept still finds it)."""
    return str(measure.pk) if measure.pk is not None else f"default-{measure.position}"


class ProviderReturnForm(forms.Form):
    """The period and one field per measure (`return_field_name`; the service checks the values)."""

    period = forms.CharField(
        label="Period",
        max_length=10,
        required=False,
        help_text="A year for an annual return, like 2026, or a quarter, like 2026-Q3.",
        widget=TextInput(attrs={"class": "govuk-input--width-10"}),
    )

    def __init__(self, *args, measures=(), **kwargs):
        super().__init__(*args, **kwargs)
        for measure in measures:
            name = return_field_name(measure)
            unsaved = f"default-{measure.position}"
            if self.is_bound and name not in self.data and unsaved in self.data:
                # Sent from the form shown before the body's default measures were kept.
                self.data = self.data.copy()
                self.data[name] = self.data[unsaved]
            label = measure.name + ("" if measure.required else " (optional)")
            if measure.kind == "yes_no":
                self.fields[name] = forms.ChoiceField(
                    label=label, choices=[("yes", "Yes"), ("no", "No")], widget=forms.RadioSelect, required=False
                )
            else:
                self.fields[name] = forms.CharField(
                    label=label,
                    required=False,
                    help_text=measure.unit,
                    widget=TextInput(attrs={"class": "govuk-input--width-10", "inputmode": "decimal"}),
                )
        self.helper = form_helper("Submit return")


class ReturnMeasureForm(forms.Form):
    name = forms.CharField(label="Measure", max_length=120, required=False, help_text="For example, Night staff.")
    kind = forms.ChoiceField(
        label="Kind of figure",
        choices=[("", "Choose the kind of figure"), *ReturnMeasure.Kind.choices],
        required=False,
    )
    unit = forms.CharField(
        label="Unit (optional)",
        max_length=30,
        required=False,
        help_text="Shown next to the answer, for example hours.",
        widget=TextInput(attrs={"class": "govuk-input--width-10"}),
    )
    lot = forms.ModelChoiceField(
        label="Lot",
        queryset=Lot.objects.order_by("number"),
        required=False,
        empty_label="Every lot",
        help_text="Asked only of homes admitted to this lot, or of every home on your DPS.",
    )
    required = forms.BooleanField(label="Homes must answer it", required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Add measure", name="add_measure")
