"""Care homes and their place on each commissioning body's DPS."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Specialism(models.Model):
    """A CQC service user band / specialism a home caters for (reference data)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120, unique=True, help_text="The name CQC uses.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CareHome(models.Model):
    class RegistrationStatus(models.TextChoices):
        REGISTERED = "Registered", "Registered"
        DEREGISTERED = "Deregistered", "Deregistered"

    provider = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="care_homes",
        limit_choices_to={"kind": "provider"},
    )
    cqc_location_id = models.CharField("CQC location id", max_length=20, unique=True)
    name = models.CharField(max_length=200)
    address_line_1 = models.CharField(max_length=200)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, db_index=True)
    local_authority = models.CharField(max_length=100, db_index=True)
    region = models.CharField(max_length=100, blank=True)
    latitude = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)])
    registered_beds = models.PositiveIntegerField(default=0)
    registration_status = models.CharField(
        max_length=20, choices=RegistrationStatus.choices, default=RegistrationStatus.REGISTERED
    )
    provides_residential = models.BooleanField(default=True, help_text="Care home service without nursing.")
    provides_nursing = models.BooleanField(default=False, help_text="Care home service with nursing.")
    specialisms = models.ManyToManyField(Specialism, blank=True, related_name="care_homes")
    cqc_provider_id = models.CharField("CQC provider id", max_length=20, blank=True)
    cqc_synced_at = models.DateTimeField(null=True, blank=True, help_text="Last time CQC data changed this home.")
    current_rating = models.ForeignKey(
        "quality.Rating", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(provides_residential=True) | Q(provides_nursing=True),
                name="carehome_offers_a_setting",
            ),
        ]
        # Distance searches narrow to a latitude/longitude box first.
        indexes = [models.Index(fields=["latitude", "longitude"], name="carehome_coordinates")]

    def __str__(self) -> str:
        return f"{self.name} ({self.postcode})"

    @property
    def is_registered(self) -> bool:
        return self.registration_status == self.RegistrationStatus.REGISTERED

    @property
    def setting_label(self) -> str:
        if self.provides_nursing and self.provides_residential:
            return "Residential and nursing"
        return "Nursing" if self.provides_nursing else "Residential"

    @property
    def address(self) -> str:
        parts = [self.address_line_1, self.address_line_2, self.town, self.postcode]
        return ", ".join(part for part in parts if part)


class Admission(models.Model):
    """One care home on one lot of one commissioning body's DPS."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        ADMITTED = "admitted", "Admitted"
        REJECTED = "rejected", "Rejected"
        SUSPENDED = "suspended", "Suspended"
        REMOVED = "removed", "Removed"

    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="admissions")
    care_home = models.ForeignKey(CareHome, on_delete=models.PROTECT, related_name="admissions")
    lot = models.ForeignKey("lots.Lot", on_delete=models.PROTECT, related_name="admissions")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.APPLIED, db_index=True)
    status_before_suspension = models.CharField(
        max_length=20, choices=Status.choices, blank=True, help_text="Where reinstatement returns the home to."
    )
    # The declarations the commissioning body asks for, made when applying.
    insurance_confirmed = models.BooleanField(default=False)
    insurance_expires_on = models.DateField(null=True, blank=True)
    terms_accepted = models.BooleanField(default=False)
    weekly_fee = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    applied_by = models.ForeignKey(
        "organisations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "organisations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["care_home__name", "lot__number"]
        constraints = [
            models.UniqueConstraint(fields=["commissioner", "care_home", "lot"], name="admission_one_per_home_lot"),
        ]
        indexes = [models.Index(fields=["commissioner", "lot", "status"])]

    def __str__(self) -> str:
        return f"{self.care_home} / lot {self.lot.number}: {self.get_status_display()}"

    @property
    def is_eligible(self) -> bool:
        """Only admitted, not suspended, home-lots may be invited to tender."""
        return self.status == self.Status.ADMITTED


class AdmissionEvent(models.Model):
    """One change of an admission's status: who, when, why. Never edited."""

    admission = models.ForeignKey(Admission, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=Admission.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Admission.Status.choices)
    actor = models.ForeignKey("organisations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    automatic = models.BooleanField(default=False, help_text="Made by the service, e.g. on a CQC rating.")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.admission}: {self.from_status or 'new'} -> {self.to_status}"


class ApplicationWindow(models.Model):
    """A dated re-opening window of a lot run as a framework (admission_mode = windows)."""

    commissioner = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="application_windows"
    )
    lot = models.ForeignKey("lots.Lot", on_delete=models.PROTECT, related_name="application_windows")
    opens_on = models.DateField()
    closes_on = models.DateField()

    class Meta:
        ordering = ["opens_on"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_on__gte=models.F("opens_on")), name="window_closes_after_open"),
        ]

    def __str__(self) -> str:
        return f"{self.commissioner}: lot {self.lot.number} {self.opens_on} to {self.closes_on}"


class Vacancy(models.Model):
    """Beds a home says are free, for one lot or one setting."""

    class Setting(models.TextChoices):
        RESIDENTIAL = "residential", "Residential"
        NURSING = "nursing", "Nursing"

    care_home = models.ForeignKey(CareHome, on_delete=models.CASCADE, related_name="vacancies")
    lot = models.ForeignKey("lots.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    setting = models.CharField(max_length=20, choices=Setting.choices, blank=True)
    beds_free = models.PositiveSmallIntegerField()
    available_from = models.DateField()
    notes = models.TextField(blank=True)
    confirmed_at = models.DateTimeField()
    confirmed_by = models.ForeignKey("organisations.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["care_home", "lot__number", "setting"]
        verbose_name_plural = "vacancies"
        constraints = [
            models.CheckConstraint(
                condition=Q(lot__isnull=False) | ~Q(setting=""), name="vacancy_names_lot_or_setting"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.care_home}: {self.beds_free} free"


class Postcode(models.Model):
    """One postcode of the national directories (ONS Postcode Directory or OS Code-Point Open) with
    the point it stands for, so people can give a place as a postcode instead of coordinates."""

    compact = models.CharField(max_length=7, unique=True, help_text="Upper case without spaces: the lookup key.")
    postcode = models.CharField(max_length=8, help_text="As written, e.g. ST16 2LL.")
    latitude = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    local_authority_code = models.CharField(max_length=9, blank=True, help_text="ONS code, e.g. E07000197.")
    terminated = models.BooleanField(default=False, help_text="No longer in use by Royal Mail.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["compact"]

    def __str__(self) -> str:
        return self.postcode


class AdmissionClosure(models.Model):
    """A home closed to new admissions for a time: an outbreak, a safeguarding embargo, works.

    With no commissioner it holds for every body (set by the provider, the back office or a home's
    closure); with one it holds for that body only (an embargo). It holds from `starts_at` until
    `ends_at` or until it is lifted, whichever is sooner. People already placed there stay.
    """

    class Reason(models.TextChoices):
        OUTBREAK = "outbreak", "Infection outbreak"
        SAFEGUARDING_EMBARGO = "safeguarding_embargo", "Safeguarding embargo"
        REFURBISHMENT = "refurbishment", "Refurbishment or building works"
        CLOSING = "closing", "The home is closing"
        OTHER = "other", "Other"

    care_home = models.ForeignKey(CareHome, on_delete=models.CASCADE, related_name="admission_closures")
    reason = models.CharField(max_length=30, choices=Reason.choices)
    details = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    review_on = models.DateField(null=True, blank=True, help_text="When the closure will be looked at again.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until lifted.")
    commissioner = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="admission_embargoes",
        help_text="Empty: closed for every body. Set: closed for this body only (an embargo).",
    )
    created_by = models.ForeignKey(
        "organisations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    took_effect_at = models.DateTimeField(
        null=True, blank=True, help_text="When open invitations were withdrawn, once the closure had started."
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        "organisations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="admission_closure_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | ~Q(lift_reason=""), name="admission_closure_lift_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["care_home", "starts_at"], name="admission_closure_home_start")]

    def __str__(self) -> str:
        return f"{self.care_home}: closed to admissions ({self.get_reason_display()})"


class BedVacancy(models.Model):
    """Free beds of one kind in a home, for one lot or one setting: the room, who it suits and
    when the home last said it was still free (`confirmed_at`), which decides its freshness."""

    class Setting(models.TextChoices):
        RESIDENTIAL = "residential", "Residential"
        NURSING = "nursing", "Nursing"

    class RoomType(models.TextChoices):
        SINGLE = "single", "Single room"
        SHARED = "shared", "Shared room"

    class Gender(models.TextChoices):
        ANY = "any", "Anyone"
        FEMALE = "female", "Women only"
        MALE = "male", "Men only"

    care_home = models.ForeignKey(CareHome, on_delete=models.CASCADE, related_name="bed_vacancies")
    lot = models.ForeignKey("lots.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    setting = models.CharField(max_length=20, choices=Setting.choices, blank=True)
    room_type = models.CharField(max_length=10, choices=RoomType.choices, default=RoomType.SINGLE)
    en_suite = models.BooleanField(default=False)
    ground_floor = models.BooleanField(default=False)
    gender = models.CharField(max_length=10, choices=Gender.choices, default=Gender.ANY)
    bariatric = models.BooleanField(default=False, help_text="Equipped for a bariatric resident.")
    beds = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(500)])
    notes = models.CharField(max_length=500, blank=True)
    confirmed_at = models.DateTimeField(db_index=True)
    confirmed_by = models.ForeignKey(
        "organisations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["care_home", "lot__number", "setting", "room_type", "pk"]
        verbose_name_plural = "bed vacancies"
        constraints = [
            models.CheckConstraint(
                condition=Q(lot__isnull=False) | ~Q(setting=""), name="bed_vacancy_names_lot_or_setting"
            ),
            models.CheckConstraint(condition=Q(beds__gte=1), name="bed_vacancy_at_least_one_bed"),
        ]

    def __str__(self) -> str:
        return f"{self.care_home}: {self.beds} {self.get_room_type_display().lower()}"

    @property
    def kind_label(self) -> str:
        """The bed in words: "Single room, en-suite, ground floor, bariatric, women only"."""
        parts = [self.get_room_type_display()]
        if self.en_suite:
            parts.append("en-suite")
        if self.ground_floor:
            parts.append("ground floor")
        if self.bariatric:
            parts.append("bariatric")
        if self.gender != self.Gender.ANY:
            parts.append(self.get_gender_display().lower())
        return ", ".join(parts)

    @property
    def for_label(self) -> str:
        return f"Lot {self.lot.number}" if self.lot_id else self.get_setting_display()


class SelectionQuestion(models.Model):
    """A question of a body's selection questionnaire for one lot, with the answer it requires."""

    class AnswerType(models.TextChoices):
        YES_NO = "yes_no", "Yes or no"
        NUMBER = "number", "A number"
        TEXT = "text", "Text"

    commissioner = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="selection_questions"
    )
    lot = models.ForeignKey("lots.Lot", on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=500)
    answer_type = models.CharField(max_length=10, choices=AnswerType.choices)
    required_answer = models.CharField(
        max_length=40,
        blank=True,
        help_text="Yes or no: the answer needed ('yes' or 'no'). A number: the least acceptable. "
        "Empty: any answer is accepted and the commissioner reads it.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    retired_at = models.DateTimeField(null=True, blank=True, help_text="No longer asked; kept for past answers.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lot__number", "position", "pk"]

    def __str__(self) -> str:
        return self.text


class SelectionAnswer(models.Model):
    """A provider's answer to a selection question, made when applying for one home-lot."""

    admission = models.ForeignKey(Admission, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SelectionQuestion, on_delete=models.PROTECT, related_name="answers")
    answer = models.CharField(max_length=2000)

    class Meta:
        ordering = ["question__position", "question_id"]
        constraints = [
            models.UniqueConstraint(fields=["admission", "question"], name="answer_one_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.answer}"


class DocumentKind(models.TextChoices):
    EMPLOYERS_LIABILITY = "employers_liability", "Employer's liability insurance"
    PUBLIC_LIABILITY = "public_liability", "Public liability insurance"
    PROFESSIONAL_INDEMNITY = "professional_indemnity", "Professional indemnity insurance"
    SAFEGUARDING_POLICY = "safeguarding_policy", "Safeguarding policy"
    BUSINESS_CONTINUITY = "business_continuity", "Business continuity plan"
    EQUALITY_POLICY = "equality_policy", "Equality and diversity policy"


class DocumentRequirement(models.Model):
    """A compliance document a body requires of every home on its DPS, and what its expiry does."""

    commissioner = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="document_requirements"
    )
    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    suspends_when_expired = models.BooleanField(
        default=True, help_text="An expired document stops new placements at the home until it is renewed."
    )
    reminder_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(365)], help_text="Days before expiry to remind."
    )

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["commissioner", "kind"], name="document_requirement_once"),
        ]

    def __str__(self) -> str:
        return f"{self.commissioner}: {self.get_kind_display()}"


def _document_path(instance, filename: str) -> str:
    return f"compliance/{instance.care_home_id}/{instance.kind}/{filename}"


class ComplianceDocument(models.Model):
    """A compliance document of a home (insurance, a policy) with its expiry date.

    Renewing uploads a new one of the same kind; the one it replaces is kept, superseded.
    """

    care_home = models.ForeignKey(CareHome, on_delete=models.PROTECT, related_name="compliance_documents")
    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    file = models.FileField(upload_to=_document_path, max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    expires_on = models.DateField()
    uploaded_by = models.ForeignKey("organisations.User", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["care_home", "kind"], condition=Q(superseded_at__isnull=True), name="document_one_current"
            ),
        ]
        indexes = [models.Index(fields=["expires_on"], condition=Q(superseded_at__isnull=True), name="doc_expiry")]

    def __str__(self) -> str:
        return f"{self.care_home}: {self.get_kind_display()} to {self.expires_on}"


class ComplianceReminder(models.Model):
    """A reminder sent about a document's expiry, once per document and stage."""

    class Stage(models.TextChoices):
        DUE = "due", "Expires soon"
        EXPIRED = "expired", "Expired"

    document = models.ForeignKey(ComplianceDocument, on_delete=models.CASCADE, related_name="reminders")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "stage"], name="reminder_once_per_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.document}: {self.get_stage_display()}"
