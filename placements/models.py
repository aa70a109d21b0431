"""Placement requests (one person's need for a care home bed) and the placements that meet them."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from lots.models import Urgency


class Pathway(models.TextChoices):
    """The discharge pathway a hospital names for the person: a discharge-to-assess bed (pathway 3)
    or a long-term placement."""

    PATHWAY_3_ASSESSMENT = "pathway_3_assessment", "Pathway 3: discharge to assess"
    LONG_TERM = "long_term", "Long-term"


class PlacementRequest(models.Model):
    """A broker's request to source a placement for one person.

    Personal data is kept to the minimum: the case system's reference identifies the person;
    `needs_summary` is the anonymised needs profile providers see until award.
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        TENDERING = "tendering", "Out to tender"
        AWARDED = "awarded", "Awarded"
        PLACED = "placed", "Placed"
        CANCELLED = "cancelled", "Cancelled"

    Urgency = Urgency
    Pathway = Pathway

    commissioner = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="placement_requests"
    )
    case_reference = models.CharField(max_length=64, help_text="The person's reference in the council's case system.")
    lot = models.ForeignKey("lots.Lot", on_delete=models.PROTECT, related_name="placement_requests")
    needs_summary = models.TextField(help_text="Anonymised needs profile shown to providers.")
    specialisms = models.ManyToManyField("providers.Specialism", blank=True, related_name="placement_requests")
    local_authority = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8, blank=True, help_text="The postcode the location was given as, if any.")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    max_distance_km = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    needed_from = models.DateField()
    max_weekly_rate = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text="The council's maximum weekly rate (defaults to the lot's guide fee).",
    )
    preferred_home = models.ForeignKey(
        "providers.CareHome", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW, db_index=True)
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    target_date = models.DateField(
        help_text="Requested date plus the lot's target days; for urgent requests the date of the target moment."
    )
    # Defaults in the database too: rows written by SQL (imports, bulk loads) get the same values.
    urgency = models.CharField(
        max_length=20, choices=Urgency.choices, default=Urgency.PLANNED, db_default=Urgency.PLANNED, db_index=True
    )
    hospital = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
        limit_choices_to={"kind": "hospital"},
        help_text="Hospital discharges: the hospital the person leaves.",
    )
    ward_contact = models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="Hospital discharges: the ward and who to call there.",
    )
    ready_for_discharge_at = models.DateTimeField(
        null=True, blank=True, help_text="Hospital discharges: when the person no longer needs a hospital bed."
    )
    pathway = models.CharField(max_length=30, choices=Pathway.choices, blank=True, default="", db_default="")
    target_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Urgent requests: ready for discharge (or the request) plus the urgency rule's target hours.",
    )
    sourced_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    assessment_placement = models.ForeignKey(
        "placements.Placement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="long_term_requests",
        help_text="The discharge-to-assess stay whose outcome, long-term in another home, asked for this request.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["commissioner", "status", "-requested_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="request_lat_lng_together",
            ),
            models.CheckConstraint(
                condition=~Q(urgency=Urgency.HOSPITAL_DISCHARGE)
                | Q(hospital__isnull=False, ready_for_discharge_at__isnull=False),
                name="request_discharge_has_hospital_and_ready_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Request {self.pk} ({self.case_reference}, lot {self.lot_id})"

    @property
    def is_urgent(self) -> bool:
        return self.urgency != Urgency.PLANNED


class PlacementQuerySet(models.QuerySet):
    def live(self):
        """Placements that went ahead: one whose award lapsed before the move-in is kept, cancelled,
        and counts neither as sourced nor as paid."""
        return self.filter(cancelled_at__isnull=True)


class Placement(models.Model):
    """A person placed in a care home: from a tender's award, a block bed, or imported history.

    `sourced_at` and `target_date` are copied from the request (or imported) so that
    timeliness reporting reads one table.
    """

    class Source(models.TextChoices):
        TENDER = "tender", "Tender award"
        BLOCK_BED = "block_bed", "Block-booked bed"
        IMPORTED = "imported", "Imported history"
        OFF_DPS_CHOICE = "off_dps_choice", "Spot contract by the person's choice"

    class AssessmentOutcome(models.TextChoices):
        """What a discharge-to-assess stay ended in, decided at its review."""

        HOME = "home", "Went home"
        LONG_TERM_SAME_HOME = "long_term_same_home", "Long-term in the same home"
        LONG_TERM_ELSEWHERE = "long_term_elsewhere", "Long-term in another home"
        DIED = "died", "Died"
        READMITTED = "readmitted", "Readmitted to hospital"

    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="placements")
    request = models.OneToOneField(
        PlacementRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="placement"
    )
    case_reference = models.CharField(max_length=64)
    care_home = models.ForeignKey(
        "providers.CareHome",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placements",
        help_text="Empty only for imported history whose home is not known here.",
    )
    lot = models.ForeignKey("lots.Lot", on_delete=models.PROTECT, related_name="placements")
    source = models.CharField(max_length=20, choices=Source.choices)
    weekly_fee = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(0)], help_text="Gross weekly fee."
    )
    council_weekly_amount = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    top_up_weekly_amount = models.DecimalField(
        max_digits=10, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    top_up_payer = models.CharField(max_length=200, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    in_county = models.BooleanField()
    requested_at = models.DateTimeField(null=True, blank=True)
    target_date = models.DateField()
    sourced_at = models.DateTimeField(db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lapsed_request = models.ForeignKey(
        PlacementRequest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lapsed_placements",
        help_text="The request this placement met until its award lapsed; the next award's placement has it now.",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.TextField(blank=True)
    # Discharge to assess: a pathway-3 stay has an assessment period and a review date from the
    # urgency rules when it is placed, and an outcome recorded at the review.
    pathway = models.CharField(max_length=30, choices=Pathway.choices, blank=True, default="", db_default="")
    assessment_ends_on = models.DateField(null=True, blank=True)
    review_on = models.DateField(null=True, blank=True, db_index=True)
    assessment_outcome = models.CharField(
        max_length=30, choices=AssessmentOutcome.choices, blank=True, default="", db_default=""
    )
    assessment_outcome_on = models.DateField(null=True, blank=True)

    objects = PlacementQuerySet.as_manager()

    class Meta:
        ordering = ["-sourced_at", "-id"]
        indexes = [
            models.Index(fields=["commissioner", "sourced_at"]),
            models.Index(fields=["commissioner", "lot", "start_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="placement_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(weekly_fee=models.F("council_weekly_amount") + models.F("top_up_weekly_amount")),
                name="placement_fee_split_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(cancelled_at__isnull=True) | ~Q(cancel_reason=""), name="placement_cancel_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(assessment_outcome="", assessment_outcome_on__isnull=True)
                | (~Q(assessment_outcome="") & Q(assessment_outcome_on__isnull=False)),
                name="placement_outcome_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Placement {self.pk}: {self.case_reference} at {self.care_home}"
