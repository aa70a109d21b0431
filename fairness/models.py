"""Fair treatment around a tender: the person's choice, bed holds, abnormally low prices,
clarification questions, standstill and challenges, and the procurement regime each body runs under."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Regime(models.TextChoices):
    PCR_2015_DPS = "pcr2015_dps", "Public Contracts Regulations 2015: dynamic purchasing system"
    PA_2023_DYNAMIC_MARKET = "pa2023_dm", "Procurement Act 2023: dynamic market"


class MarketSettings(models.Model):
    """One commissioning body's fairness settings. A body without a row gets the defaults."""

    commissioner = models.OneToOneField(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="market_settings"
    )
    regime = models.CharField(max_length=20, choices=Regime.choices, default=Regime.PCR_2015_DPS)
    late_question_hours = models.PositiveSmallIntegerField(
        default=2, help_text="An answer published this close to the deadline extends it."
    )
    deadline_extension_hours = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1)], help_text="How far a late answer moves the deadline."
    )
    bed_hold_confirm_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1)], help_text="Time the home has to confirm the bed is held."
    )
    abnormal_price_percent = models.PositiveSmallIntegerField(
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="A bid this far below the median of the lot's recent awarded fees is flagged as abnormally low.",
    )
    abnormal_price_lookback_days = models.PositiveSmallIntegerField(default=180, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name_plural = "market settings"

    def __str__(self) -> str:
        return f"Market settings of {self.commissioner}"


class StandstillRule(models.Model):
    """An optional standstill period for one body's awards on one lot."""

    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="+")
    lot = models.ForeignKey("lots.Lot", on_delete=models.PROTECT, related_name="+")
    days = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(30)])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["commissioner", "lot"], name="standstill_rule_one_per_lot")]

    def __str__(self) -> str:
        return f"{self.days}-day standstill on lot {self.lot_id} for {self.commissioner}"


class ShortlistLink(models.Model):
    """A link shared with the person or their representative after evaluation.

    Only a hash of the token is kept: the link works for whoever holds it, so the database
    alone must not be enough to open it.
    """

    tender = models.ForeignKey("bidding.Tender", on_delete=models.PROTECT, related_name="shortlist_links")
    token_hash = models.CharField(max_length=64, unique=True)
    recipient = models.CharField(max_length=200, help_text="Who the link was given to, e.g. 'the person's daughter'.")
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    bids = models.ManyToManyField("bidding.Bid", related_name="shortlist_links", help_text="The homes shown.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    chosen_bid = models.ForeignKey(
        "bidding.Bid", null=True, blank=True, on_delete=models.PROTECT, related_name="person_choices"
    )
    chosen_at = models.DateTimeField(null=True, blank=True)
    chosen_by_name = models.CharField(max_length=200, blank=True)
    top_up_payer = models.CharField(max_length=200, blank=True)
    top_up_consent = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(chosen_bid__isnull=True) | Q(chosen_at__isnull=False), name="shortlist_choice_dated"
            ),
        ]

    def __str__(self) -> str:
        return f"Shortlist link {self.pk} for tender {self.tender_id}"


class AbnormalPriceConfirmation(models.Model):
    """The broker's record that the provider confirmed it can deliver at an abnormally low fee."""

    bid = models.OneToOneField("bidding.Bid", on_delete=models.PROTECT, related_name="abnormal_price_confirmation")
    median_awarded_fee = models.DecimalField(max_digits=10, decimal_places=2)
    provider_statement = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Deliverability confirmed for bid {self.bid_id}"


class BedHold(models.Model):
    """After award the home holds the bed until the start date; the broker can move on if it does not."""

    class Status(models.TextChoices):
        AWAITING = "awaiting", "Awaiting the home's confirmation"
        HELD = "held", "Bed held"
        LAPSED = "lapsed", "Lapsed"

    tender = models.ForeignKey("bidding.Tender", on_delete=models.PROTECT, related_name="bed_holds")
    bid = models.OneToOneField("bidding.Bid", on_delete=models.PROTECT, related_name="bed_hold")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING)
    held_until = models.DateField()
    confirm_by = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lapsed_at = models.DateTimeField(null=True, blank=True)
    lapse_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-confirm_by", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tender"], condition=~Q(status="lapsed"), name="bed_hold_one_live_per_tender"
            ),
        ]

    def __str__(self) -> str:
        return f"Bed hold for bid {self.bid_id}: {self.get_status_display()}"


class LapsedAward(models.Model):
    """An award the broker moved on from (bed not held, move-in did not happen).

    The live award row is removed so the one-award-per-tender rule keeps holding; this keeps
    what was decided and why, and the award's placement, kept and cancelled.
    """

    tender = models.ForeignKey("bidding.Tender", on_delete=models.PROTECT, related_name="lapsed_awards")
    bid = models.OneToOneField("bidding.Bid", on_delete=models.PROTECT, related_name="lapsed_award")
    awarded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    awarded_at = models.DateTimeField()
    weekly_fee = models.DecimalField(max_digits=10, decimal_places=2)
    reason = models.TextField(blank=True)
    lapsed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lapsed_at = models.DateTimeField(auto_now_add=True)
    lapse_reason = models.TextField()
    placement = models.OneToOneField(
        "placements.Placement", null=True, blank=True, on_delete=models.PROTECT, related_name="lapsed_award"
    )

    class Meta:
        ordering = ["-lapsed_at", "-id"]

    def __str__(self) -> str:
        return f"Lapsed award of tender {self.tender_id} to bid {self.bid_id}"


class ClarificationQuestion(models.Model):
    """A provider's question during the window; the answer goes to every invited provider without the asker."""

    tender = models.ForeignKey("bidding.Tender", on_delete=models.PROTECT, related_name="questions")
    provider = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    question = models.TextField()
    asked_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    extended_closes_at = models.DateTimeField(
        null=True, blank=True, help_text="The new deadline when this answer came late in the window."
    )

    class Meta:
        ordering = ["tender", "asked_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | ~Q(answer=""), name="question_answer_has_text"
            ),
        ]

    def __str__(self) -> str:
        return f"Question {self.pk} on tender {self.tender_id}"


class Standstill(models.Model):
    """The period after an award decision during which unsuccessful providers may challenge it."""

    class Status(models.TextChoices):
        RUNNING = "running", "Standstill running"
        CHALLENGED = "challenged", "Challenged: awaiting a decision"
        CONFIRMED = "confirmed", "Confirmed"
        WAIVED = "waived", "Waived (urgent placement)"
        SET_ASIDE = "set_aside", "Award set aside after a challenge"

    tender = models.ForeignKey("bidding.Tender", on_delete=models.PROTECT, related_name="standstills")
    bid = models.OneToOneField("bidding.Bid", on_delete=models.PROTECT, related_name="standstill")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING, db_index=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    waiver_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gte=models.F("starts_at")), name="standstill_ends_after_start"),
            models.CheckConstraint(
                condition=~Q(status="waived") | ~Q(waiver_reason=""), name="standstill_waiver_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Standstill for bid {self.bid_id}: {self.get_status_display()}"


class Challenge(models.Model):
    class Decision(models.TextChoices):
        PENDING = "pending", "Awaiting a decision"
        DISMISSED = "dismissed", "Dismissed"
        UPHELD = "upheld", "Upheld"

    standstill = models.ForeignKey(Standstill, on_delete=models.PROTECT, related_name="challenges")
    bid = models.ForeignKey("bidding.Bid", on_delete=models.PROTECT, related_name="challenges")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    grounds = models.TextField()
    decision = models.CharField(max_length=20, choices=Decision.choices, default=Decision.PENDING)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["standstill", "bid"], name="challenge_one_per_bid"),
            models.CheckConstraint(
                condition=Q(decision="pending") | ~Q(decision_reason=""), name="challenge_decision_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Challenge {self.pk} to standstill {self.standstill_id}"
