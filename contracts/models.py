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
