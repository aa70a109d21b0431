"""Forms for homes, applications, decisions, suspensions, vacancies and the search. They parse;
the services decide."""

from datetime import datetime, time

from django import forms
from django.utils import timezone

from core.forms import DateField, MoneyField, form_helper
from lots.models import Lot
from organisations.models import Organisation

from .filters import parse_point, parse_postcode
from .models import AdmissionClosure, BedVacancy, CareHome, DocumentKind, SelectionQuestion, Specialism, Vacancy
from .ratings import RatingValue
from .selectors import BedVacancyFilters


def _reason(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the home's history with your name and the time.",
    )


class CareHomeAddForm(forms.Form):
    cqc_location_id = forms.CharField(label="CQC location id", max_length=20, help_text="For example, 1-1000104729.")
    name = forms.CharField(label="Name of the home", max_length=200, required=False)
    address_line_1 = forms.CharField(label="Address line 1", max_length=200, required=False)
    town = forms.CharField(label="Town or city", max_length=100, required=False)
    postcode = forms.CharField(label="Postcode", max_length=10, required=False)
    local_authority = forms.CharField(label="Local authority", max_length=100, required=False)
    registered_beds = forms.IntegerField(label="Registered beds", min_value=0, max_value=1000, initial=0)
    provides_residential = forms.BooleanField(label="Residential care", required=False, initial=True)
    provides_nursing = forms.BooleanField(label="Nursing care", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Add care home")


class ApplicationForm(forms.Form):
    commissioner = forms.ModelChoiceField(
        label="Council or NHS body",
        queryset=Organisation.objects.filter(
            kind__in=[Organisation.Kind.COUNCIL, Organisation.Kind.NHS], is_active=True
        ),
    )
    lots = forms.ModelMultipleChoiceField(
        label="Lots to join", queryset=Lot.objects.all(), widget=forms.CheckboxSelectMultiple
    )
    weekly_fee = MoneyField(label="Your usual weekly fee", what="your usual weekly fee", required=False)
    insurance_confirmed = forms.BooleanField(
        label="The home holds employer's, public and professional liability insurance at the levels the council asks",
        required=False,
    )
    insurance_expires_on = DateField(
        label="Insurance expires on", what="the date the insurance expires", required=False
    )
    terms_accepted = forms.BooleanField(label="I accept the DPS terms and conditions", required=False)

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.question_fields = add_question_fields(self, questions)
        self.helper = form_helper("Apply")

    def answers(self) -> dict[int, str]:
        """The answers given, by question id, as the service takes them."""
        return {int(name.removeprefix("question_")): self.cleaned_data.get(name) or "" for name in self.question_fields}


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("admit", "Admit to the lot"), ("reject", "Reject")],
        widget=forms.RadioSelect,
    )
    reason = _reason("Reason for the decision")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record decision")


class ReasonForm(forms.Form):
    reason = _reason("Reason")

    def __init__(self, *args, button: str = "Confirm", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper(button)


class VacancyForm(forms.Form):
    lot = forms.ModelChoiceField(label="Lot", queryset=Lot.objects.all(), required=False)
    setting = forms.ChoiceField(label="Or setting", choices=[("", "Any"), *Vacancy.Setting.choices], required=False)
    beds_free = forms.IntegerField(label="Beds free", min_value=0, max_value=500)
    available_from = DateField(label="Available from", what="the date the beds are available from")
    notes = forms.CharField(label="Notes", required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        if not data.get("lot") and not data.get("setting"):
            raise forms.ValidationError("Choose a lot or a setting.")
        return data


VacancyFormSet = forms.formset_factory(VacancyForm, extra=2, can_delete=True)


class BedVacancyForm(forms.Form):
    lot = forms.ModelChoiceField(label="Lot", queryset=Lot.objects.all(), required=False)
    setting = forms.ChoiceField(label="Or setting", choices=[("", "Any"), *BedVacancy.Setting.choices], required=False)
    room_type = forms.ChoiceField(label="Room", choices=BedVacancy.RoomType.choices, initial=BedVacancy.RoomType.SINGLE)
    en_suite = forms.BooleanField(label="En-suite", required=False)
    ground_floor = forms.BooleanField(label="Ground floor", required=False)
    bariatric = forms.BooleanField(label="Bariatric: equipped for a bariatric resident", required=False)
    gender = forms.ChoiceField(label="Who the bed is for", choices=BedVacancy.Gender.choices, initial="any")
    beds = forms.IntegerField(
        label="Number of beds",
        min_value=1,
        max_value=500,
        error_messages={
            "required": "Enter the number of beds",
            "min_value": "Enter at least 1 bed: tick Delete to remove a row",
            "max_value": "Enter 500 beds or fewer",
            "invalid": "Enter the number of beds as a whole number, like 2",
        },
    )
    notes = forms.CharField(label="Notes", required=False, max_length=500)

    def clean(self):
        data = super().clean()
        if not data.get("lot") and not data.get("setting") and not data.get("DELETE"):
            self.add_error("lot", "Choose a lot or a setting")
        return data


BedVacancyFormSet = forms.formset_factory(BedVacancyForm, extra=1, can_delete=True)


class AdmissionClosureForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is the home closed to admissions?",
        choices=AdmissionClosure.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why the home is closed to admissions"},
    )
    details = forms.CharField(
        label="Details",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Councils and hospitals read this. Needed for a safeguarding embargo and for Other.",
    )
    starts_on = DateField(
        label="Closed from", what="the date the closure starts", required=False, help_text="Leave empty for now."
    )
    ends_on = DateField(
        label="Open to admissions again on",
        what="the date the home opens to admissions again",
        required=False,
        help_text="Leave empty if you do not know yet: the closure holds until you lift it.",
    )
    review_on = DateField(label="Review date", what="the date the closure will be reviewed", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Close to admissions", warning=True)

    def times(self):
        """The start (None: now, also for today) and end as moments: the start of each day, UK time."""
        today = timezone.localdate()
        starts_on, ends_on = self.cleaned_data.get("starts_on"), self.cleaned_data.get("ends_on")
        starts_at = _day_start(starts_on) if starts_on and starts_on > today else None
        return starts_at, _day_start(ends_on) if ends_on else None


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


class EmbargoForm(AdmissionClosureForm):
    care_home = forms.ModelChoiceField(label="Care home", queryset=CareHome.objects.none())
    field_order = ["care_home", "reason", "details", "starts_on", "ends_on", "review_on"]

    def __init__(self, *args, homes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["care_home"].queryset = homes if homes is not None else CareHome.objects.none()
        self.fields["reason"].label = "Why is the home embargoed?"
        self.fields["details"].help_text = "The provider reads this. Needed for a safeguarding embargo and for Other."
        self.helper = form_helper("Embargo the home", warning=True)


class WindowForm(forms.Form):
    lot = forms.ModelChoiceField(label="Lot", queryset=Lot.objects.all())
    opens_on = DateField(label="Opens on", what="the date the window opens")
    closes_on = DateField(label="Closes on", what="the date the window closes")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Add window")


class CareHomeSearchForm(forms.Form):
    lot = forms.ModelChoiceField(label="Admitted on lot", queryset=Lot.objects.all(), required=False)
    rating = forms.ChoiceField(label="CQC rating", choices=[("", "Any"), *RatingValue.choices], required=False)
    specialism = forms.ModelChoiceField(
        label="Specialism", queryset=Specialism.objects.all(), to_field_name="code", required=False
    )
    vacancy = forms.ChoiceField(
        label="Vacancies", choices=[("", "Any"), ("yes", "Beds free"), ("no", "No beds free")], required=False
    )
    local_authority = forms.CharField(label="Local authority", required=False, max_length=100)
    postcode = forms.CharField(label="Distance from a postcode", required=False, help_text="For example, ST16 2LL.")
    near = forms.CharField(
        label="Or from a point (latitude,longitude)", required=False, help_text="For example, 52.8065,-2.1166."
    )
    from_home = forms.ModelChoiceField(
        label="Or distance from a home",
        queryset=CareHome.objects.exclude(latitude=None).order_by("name"),
        required=False,
    )
    within_km = forms.DecimalField(label="Within (km)", required=False, min_value=0, max_digits=6, decimal_places=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Search", method="get")

    def clean_postcode(self):
        value = self.cleaned_data["postcode"].strip()
        return parse_postcode(value) if value else None

    def clean_near(self):
        value = self.cleaned_data["near"].strip()
        return parse_point(value) if value else None

    def point(self) -> tuple[float, float] | None:
        if self.cleaned_data.get("postcode"):
            return self.cleaned_data["postcode"]
        if self.cleaned_data.get("near"):
            return self.cleaned_data["near"]
        home = self.cleaned_data.get("from_home")
        return (home.latitude, home.longitude) if home else None


class BedVacancySearchForm(forms.Form):
    postcode = forms.CharField(
        label="Near the postcode", required=False, help_text="The person's home postcode, for example ST16 2LL."
    )
    within_km = forms.DecimalField(label="Within (km)", required=False, min_value=0, max_digits=6, decimal_places=1)
    lot = forms.ModelChoiceField(label="Lot", queryset=Lot.objects.all(), required=False, to_field_name="number")
    setting = forms.ChoiceField(label="Setting", choices=[("", "Any"), *BedVacancy.Setting.choices], required=False)
    room_type = forms.ChoiceField(label="Room", choices=[("", "Any"), *BedVacancy.RoomType.choices], required=False)
    gender = forms.ChoiceField(
        label="The bed is for",
        choices=[("", "Anyone"), (BedVacancy.Gender.FEMALE, "A woman"), (BedVacancy.Gender.MALE, "A man")],
        required=False,
    )
    en_suite = forms.BooleanField(label="En-suite only", required=False)
    ground_floor = forms.BooleanField(label="Ground floor only", required=False)
    bariatric = forms.BooleanField(label="Bariatric only", required=False)
    fresh_only = forms.BooleanField(
        label="Fresh vacancies only (confirmed recently enough for urgent requests)", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Search", method="get")

    def clean_postcode(self):
        value = self.cleaned_data["postcode"].strip()
        return parse_postcode(value) if value else None

    def clean(self):
        data = super().clean()
        if data.get("within_km") is not None and not data.get("postcode") and "postcode" not in self.errors:
            self.add_error("within_km", "Enter a postcode to measure the distance from")
        return data

    def filters(self) -> BedVacancyFilters:
        data = self.cleaned_data
        return BedVacancyFilters(
            lot=data["lot"],
            setting=data["setting"],
            room_type=data["room_type"],
            en_suite=data["en_suite"] or None,
            ground_floor=data["ground_floor"] or None,
            bariatric=data["bariatric"] or None,
            gender=data["gender"],
            fresh_only=data["fresh_only"],
            near=data["postcode"],
            within_km=float(data["within_km"]) if data["within_km"] is not None else None,
        )


class ProviderInviteForm(forms.Form):
    name = forms.CharField(label="Provider name", max_length=200)
    cqc_provider_id = forms.CharField(label="CQC provider id", max_length=20, help_text="For example, 1-101641459.")
    full_name = forms.CharField(label="Contact's full name", max_length=150, required=False)
    email = forms.EmailField(label="Contact's e-mail address")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Send invitation")


def add_question_fields(form: forms.Form, questions) -> list[str]:
    """One answer field per selection question, named as the service names its errors."""
    names = []
    for question in questions:
        name = f"question_{question.pk}"
        label = f"Lot {question.lot.number}: {question.text}"
        if question.answer_type == SelectionQuestion.AnswerType.YES_NO:
            field = forms.ChoiceField(
                label=label, choices=[("yes", "Yes"), ("no", "No")], widget=forms.RadioSelect, required=False
            )
        else:
            field = forms.CharField(
                label=label,
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3})
                if question.answer_type == SelectionQuestion.AnswerType.TEXT
                else forms.TextInput(attrs={"inputmode": "decimal"}),
            )
        form.fields[name] = field
        names.append(name)
    return names


class SignUpForm(forms.Form):
    name = forms.CharField(label="Name of your organisation", max_length=200, required=False)
    cqc_provider_id = forms.CharField(
        label="CQC provider id",
        max_length=20,
        required=False,
        help_text="On your CQC registration, for example 1-101641459.",
    )
    full_name = forms.CharField(label="Your full name", max_length=150, required=False)
    email = forms.EmailField(
        label="Your e-mail address",
        required=False,
        error_messages={"invalid": "Enter an e-mail address in the correct format, like name@example.com"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Register")

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if not email:
            raise forms.ValidationError("Enter your e-mail address")
        return email


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of document", choices=[("", "Choose"), *DocumentKind.choices])
    file = forms.FileField(
        label="The document",
        help_text="A PDF, PNG, JPEG or Word (.docx) file.",
        error_messages={"required": "Select the document to upload"},
    )
    expires_on = DateField(label="Expires on", what="the date the document expires")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Upload document")


class QuestionForm(forms.Form):
    lot = forms.ModelChoiceField(label="Lot", queryset=Lot.objects.all())
    text = forms.CharField(label="Question", max_length=500, required=False)
    answer_type = forms.ChoiceField(
        label="Type of answer", choices=SelectionQuestion.AnswerType.choices, widget=forms.RadioSelect
    )
    required_answer = forms.CharField(
        label="Answer required (optional)",
        max_length=40,
        required=False,
        help_text="Yes or no questions: yes or no. Numbers: the least acceptable. Leave empty to read each answer.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Add question")


class DocumentRequirementForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of document", choices=DocumentKind.choices)
    required = forms.BooleanField(label="Every home on our DPS must keep this document in date", required=False)
    suspends_when_expired = forms.BooleanField(
        label="When it expires, stop new placements at the home until it is renewed", required=False
    )
    reminder_days = forms.IntegerField(label="Remind the provider this many days before it expires", initial=30)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Save setting")
