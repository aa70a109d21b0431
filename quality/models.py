"""CQC ratings of care homes, with their history."""

from django.db import models

# The scale is providers' (it shows and searches homes by it); named here too for quality's callers.
from providers.ratings import KEY_QUESTIONS as KEY_QUESTIONS
from providers.ratings import RatingSource, RatingValue


def _rating_field(label: str) -> models.CharField:
    return models.CharField(label, max_length=30, choices=RatingValue.choices, default=RatingValue.NOT_RATED)


class Rating(models.Model):
    """One published CQC assessment of a home. New ratings add rows; old rows stay."""

    Source = RatingSource

    care_home = models.ForeignKey("providers.CareHome", on_delete=models.CASCADE, related_name="ratings")
    overall = _rating_field("Overall")
    safe = _rating_field("Safe")
    effective = _rating_field("Effective")
    caring = _rating_field("Caring")
    responsive = _rating_field("Responsive")
    well_led = _rating_field("Well-led")
    report_date = models.DateField(null=True, blank=True, help_text="Date the CQC published the report.")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    recorded_by = models.ForeignKey(
        "organisations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-report_date", "-recorded_at"]
        indexes = [models.Index(fields=["care_home", "-recorded_at"])]
        permissions = [("enter_rating", "Can enter a CQC rating by hand, as the CQC published it")]

    def __str__(self) -> str:
        return f"{self.care_home}: {self.overall} ({self.report_date or 'no date'})"

    def key_questions(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in KEY_QUESTIONS}


# --- Contract monitoring ------------------------------------------------------------------------

# A PAMMS-style default set: the domains and questions a body starts from and then edits.
DEFAULT_MONITORING_QUESTIONS = [
    ("Involvement and information", "People are involved in decisions about their care and given clear information."),
    ("Involvement and information", "People's consent is sought and their wishes respected."),
    ("Personalised care", "Care plans reflect each person's needs, preferences and history."),
    ("Personalised care", "People are supported to stay well, eat well and take part in activities."),
    ("Safeguarding", "Staff recognise abuse and neglect and report concerns promptly."),
    ("Safeguarding", "Medicines are managed safely."),
    ("Suitability of staffing", "There are enough trained staff on every shift."),
    ("Suitability of staffing", "Staff are recruited safely and supervised."),
    ("Quality of management", "The home is well led, with audits that find and fix problems."),
    ("Quality of management", "Complaints and incidents are recorded, investigated and learnt from."),
]


class MonitoringFramework(models.Model):
    """A commissioning body's contract monitoring framework: its scale and its questions."""

    commissioner = models.OneToOneField(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="monitoring_framework"
    )
    scale_max = models.PositiveSmallIntegerField(
        "Highest score", default=4, help_text="Each question is scored from 1 to this."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scale_max__gte=2, scale_max__lte=10), name="monitoring_scale_2_to_10"
            )
        ]

    def __str__(self) -> str:
        return f"Monitoring framework of {self.commissioner}"


class MonitoringQuestion(models.Model):
    """One question of a framework, under a domain. Retired questions stay for the visits that asked them."""

    framework = models.ForeignKey(MonitoringFramework, on_delete=models.CASCADE, related_name="questions")
    domain = models.CharField(max_length=120)
    text = models.CharField(max_length=300)
    position = models.PositiveIntegerField(default=0)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.domain}: {self.text}"


class MonitoringVisit(models.Model):
    """A body's contract monitoring visit to a home, scored per question; its score is out of 100."""

    commissioner = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="monitoring_visits"
    )
    care_home = models.ForeignKey("providers.CareHome", on_delete=models.CASCADE, related_name="monitoring_visits")
    visited_on = models.DateField()
    visitor = models.CharField(max_length=120, help_text="Who visited, for example the quality officer's name.")
    findings = models.TextField(blank=True)
    scale_max = models.PositiveSmallIntegerField(help_text="The framework's highest score when the visit was made.")
    score = models.DecimalField(max_digits=5, decimal_places=2, help_text="Mean answer over the scale, out of 100.")
    recorded_by = models.ForeignKey("organisations.User", null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["commissioner", "care_home", "-visited_on"], name="monitoring_visit_latest")]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=0, score__lte=100), name="monitoring_score_0_100")
        ]

    def __str__(self) -> str:
        return f"{self.care_home}: visit of {self.visited_on} ({self.score})"


class MonitoringAnswer(models.Model):
    visit = models.ForeignKey(MonitoringVisit, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(MonitoringQuestion, on_delete=models.PROTECT, related_name="answers")
    score = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["question__position", "question_id"]
        constraints = [models.UniqueConstraint(fields=["visit", "question"], name="monitoring_answer_once")]

    def __str__(self) -> str:
        return f"{self.question}: {self.score}"


# --- Complaints and safeguarding concerns -------------------------------------------------------


class Concern(models.Model):
    """A complaint or safeguarding concern a body holds about a home. A reference only: no person's
    details are kept here (the body's own case system has them)."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", "Complaint"
        SAFEGUARDING = "safeguarding", "Safeguarding concern"

    class Category(models.TextChoices):
        CARE = "care", "Care and treatment"
        MEDICINES = "medicines", "Medicines"
        STAFFING = "staffing", "Staffing"
        DIGNITY = "dignity", "Dignity and respect"
        NEGLECT = "neglect", "Neglect or omission"
        PHYSICAL = "physical", "Physical harm"
        FINANCIAL = "financial", "Financial"
        ENVIRONMENT = "environment", "Premises and environment"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        INVESTIGATING = "investigating", "Under investigation"
        CLOSED = "closed", "Closed"

    class Outcome(models.TextChoices):
        NONE = "", "Not decided"
        SUBSTANTIATED = "substantiated", "Substantiated"
        PARTLY = "partly", "Partly substantiated"
        NOT_SUBSTANTIATED = "not_substantiated", "Not substantiated"
        INCONCLUSIVE = "inconclusive", "Inconclusive"

    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="concerns")
    care_home = models.ForeignKey("providers.CareHome", on_delete=models.CASCADE, related_name="concerns")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    received_on = models.DateField()
    category = models.CharField(max_length=20, choices=Category.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True, default=Outcome.NONE)
    reference = models.CharField(max_length=60, help_text="Your case reference only: no names or personal details.")
    embargo = models.OneToOneField(
        "providers.AdmissionClosure", null=True, blank=True, on_delete=models.PROTECT, related_name="concern"
    )
    recorded_by = models.ForeignKey("organisations.User", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["commissioner", "care_home", "status"], name="concern_home_status")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="closed") | ~models.Q(outcome=""), name="concern_closed_has_outcome"
            ),
            models.CheckConstraint(
                condition=models.Q(embargo__isnull=True) | models.Q(kind="safeguarding"),
                name="concern_embargo_safeguarding_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference} about {self.care_home}"


# --- Improvement plans ---------------------------------------------------------------------------


class ImprovementAction(models.Model):
    """One action of a home's improvement plan with a body, agreed with the provider and tracked to
    completion. The body's plan for a home is its actions for that home."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    commissioner = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="improvement_actions"
    )
    care_home = models.ForeignKey("providers.CareHome", on_delete=models.CASCADE, related_name="improvement_actions")
    action = models.CharField(max_length=300)
    owner = models.CharField(max_length=120, help_text="Who at the home does it, for example the registered manager.")
    due_on = models.DateField()
    agreed_on = models.DateField(help_text="When the action was agreed with the provider.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    progress_note = models.TextField(blank=True)
    completed_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey("organisations.User", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey("organisations.User", null=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["care_home", "status", "due_on"], name="improvement_action_due")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="done", completed_on__isnull=False)
                | (~models.Q(status="done") & models.Q(completed_on__isnull=True)),
                name="improvement_action_done_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.care_home}: {self.action} (due {self.due_on})"


# --- How quality is scored --------------------------------------------------------------------------

QUALITY_PARTS = ["overall", "key_questions", "rating_age", "monitoring", "safeguarding"]


class QualityScoringRule(models.Model):
    """How a body scores quality for a lot: weights (in %, adding up to 100) of the quality signals.
    A tender copies the rule when it is published, so later changes never rescore it."""

    commissioner = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="quality_scoring_rules"
    )
    lot = models.ForeignKey("lots.Lot", on_delete=models.PROTECT, related_name="+")
    overall = models.PositiveSmallIntegerField("CQC overall rating", default=100)
    key_questions = models.PositiveSmallIntegerField("CQC key question ratings", default=0)
    rating_age = models.PositiveSmallIntegerField("Age of the CQC rating", default=0)
    monitoring = models.PositiveSmallIntegerField("Latest contract monitoring score", default=0)
    safeguarding = models.PositiveSmallIntegerField("Open safeguarding concerns", default=0)
    updated_by = models.ForeignKey("organisations.User", null=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["commissioner", "lot__number"]
        constraints = [
            models.UniqueConstraint(fields=["commissioner", "lot"], name="quality_scoring_rule_once"),
            models.CheckConstraint(
                condition=models.Q(
                    overall__lte=100,
                    key_questions__lte=100,
                    rating_age__lte=100,
                    monitoring__lte=100,
                    safeguarding__lte=100,
                ),
                name="quality_scoring_weights_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        return f"Quality scoring of {self.commissioner}, lot {self.lot_id}"

    def weights(self) -> dict[str, int]:
        return {part: getattr(self, part) for part in QUALITY_PARTS}


# --- Provider returns ------------------------------------------------------------------------------

# The measures a body asks for until it edits its own set: (name, kind, unit).
DEFAULT_RETURN_MEASURES = [
    ("Staff in post", "integer", "people"),
    ("Staff vacancies", "integer", "posts"),
    ("Agency hours in the period", "decimal", "hours"),
    ("Staff trained in safeguarding", "percentage", "%"),
    ("Falls", "integer", "falls"),
    ("Hospital admissions", "integer", "admissions"),
    ("Complaints received", "integer", "complaints"),
]


class ReturnMeasure(models.Model):
    """One measure a body asks its DPS homes to report in their returns, for one lot or for all lots."""

    class Kind(models.TextChoices):
        INTEGER = "integer", "Whole number"
        DECIMAL = "decimal", "Number"
        PERCENTAGE = "percentage", "Percentage"
        YES_NO = "yes_no", "Yes or no"

    commissioner = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="return_measures"
    )
    lot = models.ForeignKey(
        "lots.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty: every lot."
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    unit = models.CharField(max_length=30, blank=True)
    required = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["commissioner", "active"], name="return_measure_body_active")]

    def __str__(self) -> str:
        return self.name


class ProviderReturn(models.Model):
    """A home's return to a body for one period. Resubmitting before the body accepts it replaces the answers."""

    class PeriodKind(models.TextChoices):
        ANNUAL = "annual", "Annual"
        QUARTERLY = "quarterly", "Quarterly"

    care_home = models.ForeignKey("providers.CareHome", on_delete=models.CASCADE, related_name="returns")
    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="returns")
    period_kind = models.CharField(max_length=20, choices=PeriodKind.choices)
    period = models.CharField(max_length=10, help_text="For example 2026-Q3 or 2026.")
    submitted_by = models.ForeignKey("organisations.User", null=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period", "care_home__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["care_home", "commissioner", "period"], name="provider_return_once"),
        ]
        indexes = [models.Index(fields=["commissioner", "-submitted_at"], name="provider_return_body_latest")]

    def __str__(self) -> str:
        return f"{self.care_home}: return {self.period} to {self.commissioner}"


class ReturnAnswer(models.Model):
    provider_return = models.ForeignKey(ProviderReturn, on_delete=models.CASCADE, related_name="answers")
    measure = models.ForeignKey(ReturnMeasure, on_delete=models.PROTECT, related_name="answers")
    value = models.DecimalField(max_digits=12, decimal_places=2, help_text="Yes is 1 and no is 0.")

    class Meta:
        ordering = ["measure__position", "measure_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider_return", "measure"], name="return_answer_once"),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="return_answer_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.measure}: {self.shown}"

    @property
    def shown(self) -> str:
        if self.measure.kind == ReturnMeasure.Kind.YES_NO:
            return "Yes" if self.value else "No"
        if self.measure.kind == ReturnMeasure.Kind.INTEGER:
            return str(int(self.value))
        return f"{self.value.normalize():f}"
