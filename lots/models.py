"""The ten lots of the DPS and each commissioning body's rules for them."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q


class Setting(models.TextChoices):
    RESIDENTIAL = "residential", "Residential"
    NURSING = "nursing", "Nursing"


class ClientGroup(models.TextChoices):
    OLDER_PEOPLE = "older_people", "Older people"
    LEARNING_DISABILITY = "learning_disability", "Learning disability"
    PHYSICAL_DISABILITY = "physical_disability", "Physical disability"
    MENTAL_HEALTH = "mental_health", "Adult mental health"


class Lot(models.Model):
    """Reference data created by a migration: setting x client group."""

    number = models.PositiveSmallIntegerField(unique=True)
    name = models.CharField(max_length=120)
    setting = models.CharField(max_length=20, choices=Setting.choices)
    client_group = models.CharField(max_length=30, choices=ClientGroup.choices)
    dementia = models.BooleanField(default=False)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"Lot {self.number}: {self.name}"


class LotRules(models.Model):
    """How one commissioning body runs one lot: timescales, weights, fees, windows."""

    class AdmissionMode(models.TextChoices):
        ALWAYS_OPEN = "always_open", "Always open (dynamic purchasing system)"
        WINDOWS = "windows", "Open only in re-opening windows (framework)"

    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="lot_rules")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="rules")
    target_days = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Days from request to placement sourced, for timeliness reporting.",
    )
    quality_weight = models.PositiveSmallIntegerField(
        default=60, validators=[MaxValueValidator(100)], help_text="Per cent of the score for quality."
    )
    price_weight = models.PositiveSmallIntegerField(
        default=40, validators=[MaxValueValidator(100)], help_text="Per cent of the score for price."
    )
    guide_weekly_fee = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    default_window_hours = models.PositiveSmallIntegerField(default=48)
    min_window_hours = models.PositiveSmallIntegerField(default=2)
    max_window_hours = models.PositiveSmallIntegerField(default=168)
    not_yet_rated_score = models.PositiveSmallIntegerField(
        default=50,
        validators=[MaxValueValidator(100)],
        help_text="Quality score given to a home the CQC has not yet rated.",
    )
    admission_mode = models.CharField(max_length=20, choices=AdmissionMode.choices, default=AdmissionMode.ALWAYS_OPEN)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["commissioner__name", "lot__number"]
        verbose_name_plural = "lot rules"
        constraints = [
            models.UniqueConstraint(fields=["commissioner", "lot"], name="lotrules_one_per_lot"),
            models.CheckConstraint(
                condition=Q(quality_weight__lte=100)
                & Q(price_weight__lte=100)
                & Q(quality_weight=100 - F("price_weight")),
                name="lotrules_weights_sum_to_100",
            ),
            models.CheckConstraint(
                condition=Q(min_window_hours__lte=F("default_window_hours"))
                & Q(default_window_hours__lte=F("max_window_hours")),
                name="lotrules_window_bounds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commissioner}: {self.lot}"

    def clean(self):
        errors = {}
        if (self.quality_weight or 0) + (self.price_weight or 0) != 100:
            message = (
                f"Quality and price weights must add up to 100 "
                f"(they add up to {(self.quality_weight or 0) + (self.price_weight or 0)})."
            )
            errors["quality_weight"] = message
            errors["price_weight"] = message
        if None not in (self.min_window_hours, self.default_window_hours, self.max_window_hours) and not (
            self.min_window_hours <= self.default_window_hours <= self.max_window_hours
        ):
            errors["default_window_hours"] = "The default window must lie between the minimum and the maximum."
        if errors:
            raise ValidationError(errors)


class Urgency(models.TextChoices):
    """How soon a person needs a placement; placement requests carry it (`PlacementRequest.Urgency`)."""

    HOSPITAL_DISCHARGE = "hospital_discharge", "Hospital discharge"
    URGENT_COMMUNITY = "urgent_community", "Urgent (community)"
    PLANNED = "planned", "Planned"


URGENT = (Urgency.HOSPITAL_DISCHARGE, Urgency.URGENT_COMMUNITY)


class UrgencyRules(models.Model):
    """How one commissioning body runs one lot for urgent requests: a target and a tender window in
    hours, and how the tender is awarded. Planned requests follow the lot rules (days), so there is no
    row for them; `lots.selectors.urgency_rules_for` answers for every urgency."""

    class AwardRule(models.TextChoices):
        RANKED = "ranked", "Ranked: the best quality and cost score after the window closes"
        FIRST_ACCEPTABLE = "first_acceptable", "First acceptable: the first compliant bid is awarded at once"

    lot_rules = models.ForeignKey(LotRules, on_delete=models.CASCADE, related_name="urgency_rules")
    urgency = models.CharField(max_length=20, choices=Urgency.choices)
    target_hours = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text="Hours from ready for discharge (or the request) to the placement sourced.",
    )
    min_window_hours = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    default_window_hours = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    max_window_hours = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(168)])
    award_rule = models.CharField(max_length=20, choices=AwardRule.choices, default=AwardRule.RANKED)
    assessment_days = models.PositiveSmallIntegerField(
        default=28,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
        help_text="Discharge to assess: the days of assessment before the long-term decision.",
    )
    vacancy_fresh_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
        help_text="A vacancy counts for these requests only if confirmed within this many hours.",
    )
    reminder_minutes_before_close = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(1440)],
        help_text="Invited homes that have not bid are reminded this many minutes before the close.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["lot_rules__lot__number", "urgency"]
        verbose_name_plural = "urgency rules"
        constraints = [
            models.UniqueConstraint(fields=["lot_rules", "urgency"], name="urgencyrules_one_per_lot_and_urgency"),
            models.CheckConstraint(condition=~Q(urgency=Urgency.PLANNED), name="urgencyrules_only_urgent"),
            models.CheckConstraint(
                condition=Q(min_window_hours__gte=1)
                & Q(min_window_hours__lte=F("default_window_hours"))
                & Q(default_window_hours__lte=F("max_window_hours")),
                name="urgencyrules_window_bounds",
            ),
            models.CheckConstraint(condition=Q(target_hours__gte=1), name="urgencyrules_target_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.lot_rules}: {self.get_urgency_display()}"

    @property
    def lot(self) -> Lot:
        return self.lot_rules.lot

    def clean(self):
        errors = {}
        if self.urgency == Urgency.PLANNED:
            errors["urgency"] = "Planned requests follow the lot rules; urgency rules are for urgent requests."
        if None not in (self.min_window_hours, self.default_window_hours, self.max_window_hours) and not (
            self.min_window_hours <= self.default_window_hours <= self.max_window_hours
        ):
            errors["default_window_hours"] = "The default window must lie between the minimum and the maximum."
        if errors:
            raise ValidationError(errors)


class ProcurementRegime(models.TextChoices):
    PCR_2015_LIGHT_TOUCH = "pcr_2015_light_touch", "Public Contracts Regulations 2015, light-touch regime"
    PCR_2015_DPS = "pcr_2015_dps", "Public Contracts Regulations 2015, regulation 34 (dynamic purchasing system)"
    PA_2023_DYNAMIC_MARKET = "pa_2023_dynamic_market", "Procurement Act 2023, dynamic market"
    PA_2023_LIGHT_TOUCH = "pa_2023_light_touch", "Procurement Act 2023, light-touch contracts"


class DpsAgreement(models.Model):
    """A commissioning body's DPS itself: its term, the lots it covers, its extension options.

    Applications and call-offs are made under it, and only within its term (`lots.selectors.dps_in_term`).
    """

    commissioner = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="dps_agreements"
    )
    title = models.CharField(max_length=200)
    reference = models.CharField(max_length=60, blank=True, help_text="The body's own contract reference.")
    procurement_regime = models.CharField(max_length=40, choices=ProcurementRegime.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The end of the original term, before any extension.")
    maximum_term_ends_on = models.DateField(
        null=True, blank=True, help_text="No extension may run past this day (e.g. a ten-year limit)."
    )
    lots = models.ManyToManyField(Lot, related_name="dps_agreements")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["commissioner__name", "starts_on"]
        verbose_name = "DPS agreement"
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="dps_ends_after_start"),
            models.UniqueConstraint(fields=["commissioner", "starts_on"], name="dps_one_start_per_body"),
        ]

    def __str__(self) -> str:
        return f"{self.commissioner}: {self.title}"


class DpsExtensionOption(models.Model):
    """An option in the agreement to extend its term, to be decided by a date."""

    agreement = models.ForeignKey(DpsAgreement, on_delete=models.CASCADE, related_name="extension_options")
    months = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(120)])
    decide_by = models.DateField(help_text="The latest day the body may decide to exercise it.")

    class Meta:
        ordering = ["decide_by", "pk"]

    def __str__(self) -> str:
        return f"{self.months} months, decide by {self.decide_by}"


class DpsExtension(models.Model):
    """An extension option exercised: the decision and the new end of the term. Never edited."""

    agreement = models.ForeignKey(DpsAgreement, on_delete=models.CASCADE, related_name="extensions")
    option = models.OneToOneField(DpsExtensionOption, on_delete=models.PROTECT, related_name="exercised")
    decision_reference = models.CharField(max_length=120, help_text="The decision record, e.g. a cabinet decision.")
    decided_on = models.DateField()
    new_ends_on = models.DateField()
    recorded_by = models.ForeignKey(
        "organisations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["new_ends_on", "pk"]

    def __str__(self) -> str:
        return f"{self.agreement}: extended to {self.new_ends_on} ({self.decision_reference})"


class DpsNotice(models.Model):
    """A notice published about the DPS (e.g. on Find a Tender or Contracts Finder)."""

    class Kind(models.TextChoices):
        CONTRACT_NOTICE = "contract_notice", "Contract notice"
        TENDER_NOTICE = "tender_notice", "Tender notice"
        MODIFICATION_NOTICE = "modification_notice", "Contract change notice"
        AWARD_NOTICE = "award_notice", "Award notice"
        OTHER = "other", "Other notice"

    agreement = models.ForeignKey(DpsAgreement, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.CONTRACT_NOTICE)
    reference = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    published_on = models.DateField()

    class Meta:
        ordering = ["published_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}"
