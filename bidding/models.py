"""Tenders for a placement request: invitations, sealed bids, evaluation and the award."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class Tender(models.Model):
    """One tender window for a placement request (a request may be re-tendered)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        EVALUATED = "evaluated", "Evaluated"
        AWARDED = "awarded", "Awarded"
        NO_BIDS = "no_bids", "Closed with no bids"
        CANCELLED = "cancelled", "Cancelled"

    class AwardRule(models.TextChoices):
        """Copied from the request's urgency rules when published (`lots.UrgencyRules.AwardRule`)."""

        RANKED = "ranked", "Ranked: the best quality and cost score after the window closes"
        FIRST_ACCEPTABLE = "first_acceptable", "First acceptable: the first compliant bid is awarded at once"

    class Sourcing(models.TextChoices):
        """Which homes were invited."""

        ELIGIBLE = "eligible", "Every eligible home"
        FRESH_VACANCIES = "fresh_vacancies", "Eligible homes with a fresh matching vacancy"
        FALLBACK = "fallback", "Every eligible home, as none had a fresh matching vacancy"

    request = models.ForeignKey("placements.PlacementRequest", on_delete=models.PROTECT, related_name="tenders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    award_rule = models.CharField(max_length=20, choices=AwardRule.choices, default=AwardRule.RANKED)
    sourcing = models.CharField(max_length=20, choices=Sourcing.choices, default=Sourcing.ELIGIBLE)
    vacancy_fresh_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Urgent requests: how recent a vacancy had to be, copied from the rules."
    )
    reminder_minutes_before_close = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Urgent requests: when homes that have not bid are reminded."
    )
    opened_at = models.DateTimeField()
    closes_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    quality_weight = models.PositiveSmallIntegerField(help_text="Copied from the lot rules when published.")
    price_weight = models.PositiveSmallIntegerField()
    not_yet_rated_score = models.PositiveSmallIntegerField(
        default=50, help_text="Copied from the lot rules when published: quality score of a home not yet rated."
    )
    max_weekly_rate = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text="The council's maximum weekly rate when the tender was published.",
    )
    quality_rules = models.JSONField(
        null=True,
        blank=True,
        help_text="How quality is scored, copied from the body's rule for the lot when published "
        '({"weights": {part: %}}). Empty: published before, scored on the CQC overall rating alone.',
    )
    cancel_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opened_at")), name="tender_closes_after_open"),
            models.UniqueConstraint(fields=["request"], condition=Q(status="open"), name="tender_one_open_per_request"),
        ]
        indexes = [models.Index(fields=["status", "closes_at"])]

    def __str__(self) -> str:
        return f"Tender {self.pk} for request {self.request_id}"

    @property
    def sourcing_note(self) -> str:
        """Which homes were invited, in the words the request page and the API show."""
        if self.sourcing == self.Sourcing.FRESH_VACANCIES:
            return "Only eligible homes with a fresh matching vacancy were invited."
        if self.sourcing == self.Sourcing.FALLBACK:
            return "No home had a fresh matching vacancy, so every eligible home was invited."
        return ""


class Invitation(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        WITHDRAWN = "withdrawn", "Withdrawn"

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="invitations")
    care_home = models.ForeignKey("providers.CareHome", on_delete=models.PROTECT, related_name="invitations")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVITED)
    distance_km = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    invited_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, help_text="When the home was reminded to bid (once).")

    class Meta:
        ordering = ["tender", "care_home__name"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "care_home"], name="invitation_one_per_home"),
        ]

    def __str__(self) -> str:
        return f"{self.care_home} invited to tender {self.tender_id}"


class Bid(models.Model):
    """A sealed bid: its amount is visible to its own provider only until the window closes."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXCLUDED = "excluded", "Excluded"

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="bids")
    invitation = models.OneToOneField(Invitation, on_delete=models.PROTECT, related_name="bid")
    care_home = models.ForeignKey("providers.CareHome", on_delete=models.PROTECT, related_name="bids")
    provider = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="bids")
    weekly_fee = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    earliest_start = models.DateField()
    needs_confirmed = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    excluded_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Evaluation, written once when the tender is evaluated.
    quality_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    price_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    total_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    above_max_rate = models.BooleanField(default=False)
    working = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["tender", "rank", "submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "care_home"], name="bid_one_per_home_per_tender"),
            models.UniqueConstraint(fields=["tender", "rank"], name="bid_rank_unique_per_tender"),
        ]

    def __str__(self) -> str:
        return f"Bid {self.pk} by {self.care_home} on tender {self.tender_id}"


class Award(models.Model):
    """The broker's decision. One per tender, enforced by the database."""

    tender = models.OneToOneField(Tender, on_delete=models.PROTECT, related_name="award")
    bid = models.OneToOneField(Bid, on_delete=models.PROTECT, related_name="award")
    awarded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    awarded_at = models.DateTimeField(auto_now_add=True)
    top_ranked = models.BooleanField(help_text="Whether the awarded bid ranked first.")
    reason = models.TextField(blank=True, help_text="Required when the award is not the top-ranked bid.")
    top_up_weekly_amount = models.DecimalField(
        max_digits=10, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    top_up_payer = models.CharField(max_length=200, blank=True)
    chosen_by_person = models.BooleanField(default=False, help_text="The person chose this home from a shortlist.")
    top_up_consent = models.BooleanField(default=False, help_text="The top-up payer agreed through the shortlist.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(top_ranked=True) | ~Q(reason=""), name="award_reason_unless_top"),
            models.CheckConstraint(
                condition=Q(top_up_weekly_amount=0) | ~Q(top_up_payer=""), name="award_top_up_has_payer"
            ),
        ]

    def __str__(self) -> str:
        return f"Award of tender {self.tender_id} to bid {self.bid_id}"
