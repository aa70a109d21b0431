"""Contracts and money: service agreements, fee history, fee uplifts.

Payment schedules are not stored: they are computed from the fee history and the block
contracts for a period (see `contracts.payments`), so a correction to either shows in the
next schedule produced.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from lots.models import ClientGroup

TERMS_VERSION = "DPS-ISA-2026.1"


def _money(**kwargs):
    return models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)], **kwargs)


class FeePeriod(models.Model):
    """The weekly fee of a placement from `effective_from` until the next period starts.

    The first period of a placement starts on its start date and holds the fee it was
    agreed at; uplifts and fee changes add later periods. The placement row keeps the
    latest agreed fee; reads of the fee on a date use these rows.
    """

    class Reason(models.TextChoices):
        INITIAL = "initial", "Fee agreed at placement"
        UPLIFT = "uplift", "Fee uplift"
        FEE_CHANGE = "fee_change", "Fee change"
        FNC_RATE = "fnc_rate", "New national FNC rate"

    placement = models.ForeignKey("placements.Placement", on_delete=models.PROTECT, related_name="fee_periods")
    effective_from = models.DateField()
    weekly_fee = _money()
    council_weekly_amount = _money()
    top_up_weekly_amount = _money(default=0)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    uplift = models.ForeignKey(
        "contracts.Uplift", null=True, blank=True, on_delete=models.PROTECT, related_name="fee_periods"
    )
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["placement_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["placement", "effective_from"], name="feeperiod_one_per_day"),
            # An uplift can change a placement's fee once, however often it is applied.
            models.UniqueConstraint(
                fields=["uplift", "placement"], condition=Q(uplift__isnull=False), name="feeperiod_once_per_uplift"
            ),
            models.CheckConstraint(
                condition=Q(weekly_fee=F("council_weekly_amount") + F("top_up_weekly_amount")),
                name="feeperiod_split_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(reason="uplift", uplift__isnull=False) | (~Q(reason="uplift") & Q(uplift__isnull=True)),
                name="feeperiod_uplift_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"£{self.weekly_fee} a week from {self.effective_from} (placement {self.placement_id})"


class ServiceAgreement(models.Model):
    """One version of a placement's individual service agreement (call-off contract).

    The parties, home and fee are copied onto the version so that a signed version keeps
    saying what was agreed after the placement or the home changes.
    """

    class Reason(models.TextChoices):
        PLACEMENT = "placement", "New placement"
        FEE_CHANGE = "fee_change", "Fee change"
        UPLIFT = "uplift", "Fee uplift"
        ENDED = "ended", "Placement ended"
        FUNDING_CHANGE = "funding_change", "Change of who pays"
        TOP_UP = "top_up", "Top-up agreement"

    placement = models.ForeignKey("placements.Placement", on_delete=models.PROTECT, related_name="agreements")
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    terms_version = models.CharField(max_length=40, default=TERMS_VERSION)
    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    commissioner_name = models.CharField(max_length=200)
    provider_name = models.CharField(max_length=200)
    care_home_name = models.CharField(max_length=200)
    care_home_address = models.CharField(max_length=500)
    cqc_location_id = models.CharField(max_length=20)
    lot_name = models.CharField(max_length=160)
    case_reference = models.CharField(max_length=64)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    fee_effective_from = models.DateField()
    weekly_fee = _money()
    council_weekly_amount = _money()
    top_up_weekly_amount = _money(default=0)
    top_up_payer = models.CharField(max_length=200, blank=True)
    funding_shares = models.JSONField(
        default=list, blank=True, help_text="Each payer's share from the fee's effective date, as agreed."
    )
    top_up_terms = models.TextField(blank=True)
    payment_terms = models.TextField(blank=True, help_text="What is paid during absences and after a death.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "is_current"]),
            models.Index(fields=["commissioner", "is_current"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["placement", "version"], name="agreement_unique_version"),
            models.UniqueConstraint(
                fields=["placement"], condition=Q(is_current=True), name="agreement_one_current_per_placement"
            ),
            models.CheckConstraint(
                condition=Q(weekly_fee=F("council_weekly_amount") + F("top_up_weekly_amount")),
                name="agreement_fee_split_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True, accepted_by__isnull=True)
                | Q(accepted_at__isnull=False, accepted_by__isnull=False),
                name="agreement_acceptance_has_time_and_user",
            ),
        ]

    def __str__(self) -> str:
        return f"Agreement {self.reference}"

    @property
    def reference(self) -> str:
        return f"ISA-{self.placement_id}-v{self.version}"

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None


class Uplift(models.Model):
    """A commissioner's fee uplift: rules per lot or client group, from an effective date."""

    class Basis(models.TextChoices):
        INDEX_LINKED = "index_linked", "Index-linked"
        REAL_LIVING_WAGE = "real_living_wage", "Real Living Wage"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        QUEUED = "queued", "Being applied"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed, nothing applied"

    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="uplifts")
    name = models.CharField(max_length=120)
    basis = models.CharField(max_length=30, choices=Basis.choices)
    basis_note = models.TextField(blank=True, help_text="E.g. the index and month used, or the wage rate.")
    effective_from = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    failure = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    queued_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    placements_uplifted = models.PositiveIntegerField(default=0)
    block_contracts_uplifted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-effective_from", "-id"]

    def __str__(self) -> str:
        return f"{self.name} from {self.effective_from}"


class UpliftRule(models.Model):
    """One line of an uplift: a percentage, or a new weekly rate, for a lot or a client group.

    A rule for a lot wins over a rule for the lot's client group.
    """

    uplift = models.ForeignKey(Uplift, on_delete=models.CASCADE, related_name="rules")
    lot = models.ForeignKey("lots.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    client_group = models.CharField(max_length=30, choices=ClientGroup.choices, blank=True)
    percentage = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)],
    )
    new_weekly_rate = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))]
    )

    class Meta:
        ordering = ["lot__number", "client_group"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(lot__isnull=False) & Q(client_group="")) | (Q(lot__isnull=True) & ~Q(client_group="")),
                name="upliftrule_lot_or_client_group",
            ),
            models.CheckConstraint(
                condition=Q(percentage__isnull=False, new_weekly_rate__isnull=True)
                | Q(percentage__isnull=True, new_weekly_rate__isnull=False),
                name="upliftrule_percentage_or_rate",
            ),
            models.UniqueConstraint(
                fields=["uplift", "lot"], condition=Q(lot__isnull=False), name="upliftrule_one_per_lot"
            ),
            models.UniqueConstraint(
                fields=["uplift", "client_group"], condition=~Q(client_group=""), name="upliftrule_one_per_group"
            ),
        ]

    def __str__(self) -> str:
        target = f"lot {self.lot.number}" if self.lot_id else self.get_client_group_display()
        change = f"{self.percentage}%" if self.percentage is not None else f"£{self.new_weekly_rate} a week"
        return f"{target}: {change}"


# Who pays what -----------------------------------------------------------------------------


class PayerType(models.TextChoices):
    COUNCIL = "council", "Council"
    CONTRIBUTION = "contribution", "Person's assessed contribution"
    TOP_UP = "top_up", "Third-party top-up"
    FNC = "fnc", "NHS-funded nursing care"
    NHS_JOINT = "nhs_joint", "NHS joint funding"
    CHC = "chc", "NHS continuing healthcare"


NHS_PAYER_TYPES = (PayerType.FNC, PayerType.NHS_JOINT, PayerType.CHC)


class Route(models.TextChoices):
    GROSS = "gross", "Gross: the council pays the home and collects this share"
    NET = "net", "Net: the payer pays the home directly"


class FundingShare(models.Model):
    """One payer's part of a placement's weekly fee from `effective_from` to `effective_to`.

    Every change writes a whole set of shares from its date: the rows of a set share their
    dates, and on every day of the placement the shares in force add up to its weekly fee
    (`contracts.services.funding_shares_check`, backed by a deferred database trigger). A row
    replaced by a later correction is kept, marked superseded, as history.
    """

    class Reason(models.TextChoices):
        INITIAL = "initial", "Fee agreed at placement"
        CHANGE = "change", "Funding change"
        FEE_CHANGE = "fee_change", "Fee change"
        UPLIFT = "uplift", "Fee uplift"
        FNC_RATE = "fnc_rate", "New national FNC rate"
        TOP_UP_STOPPED = "top_up_stopped", "Top-up payer stopped"
        ASSESSMENT_OUTCOME = "assessment_outcome", "Assessment outcome"
        IMPORTED = "imported", "Imported history"

    placement = models.ForeignKey("placements.Placement", on_delete=models.PROTECT, related_name="funding_shares")
    payer_type = models.CharField(max_length=20, choices=PayerType.choices)
    payer_organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payer_name = models.CharField(max_length=200, blank=True, help_text="The payer as named on the agreement.")
    route = models.CharField(max_length=10, choices=Route.choices, default=Route.GROSS)
    weekly_amount = _money()
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    note = models.TextField(blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["placement_id", "effective_from", "payer_type", "id"]
        indexes = [
            models.Index(
                fields=["placement", "effective_from"],
                condition=Q(superseded_at__isnull=True),
                name="fundingshare_in_force",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="fundingshare_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(payer_organisation__isnull=False) | ~Q(payer_name=""), name="fundingshare_has_payer"
            ),
            models.CheckConstraint(condition=Q(weekly_amount__gte=0), name="fundingshare_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_payer_type_display()} £{self.weekly_amount} a week from {self.effective_from}"

    @property
    def payer(self) -> str:
        return self.payer_name or (self.payer_organisation.name if self.payer_organisation_id else "")


class FncRate(models.Model):
    """The national weekly rate of NHS-funded nursing care from a date (set each April)."""

    effective_from = models.DateField(unique=True)
    weekly_rate = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    note = models.CharField(max_length=200, blank=True, help_text="E.g. the announcement the rate comes from.")
    applied_at = models.DateTimeField(null=True, blank=True)
    placements_changed = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = "FNC rate"

    def __str__(self) -> str:
        return f"FNC £{self.weekly_rate} a week from {self.effective_from}"


class TopUpAgreement(models.Model):
    """A third party's written agreement to pay a top-up, and the broker's affordability check.

    Recorded on the placement request before the award (an award with a top-up needs one), and
    joined to the placement the award creates.
    """

    class SignedVia(models.TextChoices):
        PAPER = "paper", "Signed on paper"
        CHOICE_LINK = "choice_link", "Agreed through the person's choice link"

    request = models.ForeignKey(
        "placements.PlacementRequest", on_delete=models.PROTECT, related_name="top_up_agreements"
    )
    placement = models.ForeignKey(
        "placements.Placement", null=True, blank=True, on_delete=models.PROTECT, related_name="top_up_agreements"
    )
    payer_name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=100, help_text="E.g. daughter, friend, the person themselves.")
    weekly_amount = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    starts_on = models.DateField()
    signed_via = models.CharField(max_length=20, choices=SignedVia.choices)
    signed_on = models.DateField()
    affordability_confirmed = models.BooleanField(default=False)
    affordability_note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    stopped_on = models.DateField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stop_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True) | ~Q(stop_reason=""), name="topup_stop_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Top-up of £{self.weekly_amount} a week by {self.payer_name} ({self.relationship})"


class PaymentRules(models.Model):
    """What a commissioning body pays while a resident is away in hospital and after a death."""

    DEFAULT_ABSENCE_FULL_WEEKS = 6
    DEFAULT_ABSENCE_REDUCED_PERCENT = Decimal("80.00")
    DEFAULT_DEATH_PAID_DAYS = 3

    commissioner = models.OneToOneField(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="payment_rules"
    )
    absence_full_weeks = models.PositiveIntegerField(default=DEFAULT_ABSENCE_FULL_WEEKS)
    absence_reduced_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_ABSENCE_REDUCED_PERCENT,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    death_paid_days = models.PositiveIntegerField(default=DEFAULT_DEATH_PAID_DAYS)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "payment rules"

    def __str__(self) -> str:
        return (
            f"Full fee for {self.absence_full_weeks} weeks of absence then {self.absence_reduced_percent}%; "
            f"{self.death_paid_days} days after a death"
        )


class Absence(models.Model):
    """A resident's temporary absence from the home, such as a hospital admission."""

    class Kind(models.TextChoices):
        HOSPITAL = "hospital", "Hospital admission"
        OTHER = "other", "Other temporary absence"

    placement = models.ForeignKey("placements.Placement", on_delete=models.PROTECT, related_name="absences")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HOSPITAL)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="The last day away; empty while still away.")
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["placement_id", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="absence_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.starts_on}"


class Death(models.Model):
    """A resident's death: the placement ends that day and is paid on for the body's rule."""

    placement = models.OneToOneField("placements.Placement", on_delete=models.PROTECT, related_name="death")
    died_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Died {self.died_on}"


class OutcomePaymentRule(models.Model):
    """An amount a commissioning body pays a home when a stay ends with an outcome, per lot or block contract."""

    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey("lots.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    block_contract = models.ForeignKey(
        "blockbeds.BlockContract", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=30, help_text="The assessment outcome that earns the payment, e.g. home.")
    within_assessment_period = models.BooleanField(
        default=True, help_text="Paid only when the outcome is on or before the end of the assessment period."
    )
    amount = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    description = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["commissioner_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lot__isnull=False, block_contract__isnull=True)
                | Q(lot__isnull=True, block_contract__isnull=False),
                name="outcomerule_lot_or_block",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description}: £{self.amount}"


class OutcomePayment(models.Model):
    """An outcome payment earned by a placement, paid in the schedule whose period holds `due_on`."""

    placement = models.ForeignKey("placements.Placement", on_delete=models.PROTECT, related_name="outcome_payments")
    rule = models.ForeignKey(OutcomePaymentRule, on_delete=models.PROTECT, related_name="payments")
    outcome = models.CharField(max_length=30)
    outcome_on = models.DateField()
    amount = _money()
    due_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["placement", "rule"], name="outcomepayment_once_per_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.description}: £{self.amount} due {self.due_on}"
