"""A care home closing, a provider handing a placement or block contract back, and the move plan
that finds each resident placed there a new home.

A home's closure is recorded once per commissioning body (`HomeClosure`): the body's residents at
the home are listed as `ResidentMove` rows, one a person, and the body works each row through from
"to assess" to "moved". A provider's hand-back of one placement adds a row of its own; a hand-back
of a block contract records the notice and the contract's new end date.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class HomeClosure(models.Model):
    """A body's record that a home is closing: the date, the reason and who said so."""

    class Source(models.TextChoices):
        COMMISSIONER = "commissioner", "Commissioner"
        PROVIDER = "provider", "The home's provider"
        CQC = "cqc", "CQC deregistration"

    care_home = models.ForeignKey("providers.CareHome", on_delete=models.PROTECT, related_name="home_closures")
    commissioner = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="home_closures"
    )
    closing_on = models.DateField(help_text="The day the home closes: every resident must have moved by then.")
    reason = models.TextField()
    source = models.CharField(max_length=20, choices=Source.choices)
    admission_closure = models.ForeignKey(
        "providers.AdmissionClosure", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    residents_at_start = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["closing_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["care_home", "commissioner"], name="home_closure_once_per_body"),
        ]

    def __str__(self) -> str:
        return f"{self.care_home} closing on {self.closing_on}"


class HandBack(models.Model):
    """A provider gives notice on one placement or one block contract: it ends on `notice_ends_on`."""

    care_home = models.ForeignKey("providers.CareHome", on_delete=models.PROTECT, related_name="hand_backs")
    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    placement = models.ForeignKey(
        "placements.Placement", null=True, blank=True, on_delete=models.PROTECT, related_name="hand_backs"
    )
    block_contract = models.ForeignKey(
        "blockbeds.BlockContract", null=True, blank=True, on_delete=models.PROTECT, related_name="hand_backs"
    )
    notice_ends_on = models.DateField(help_text="The last day the provider will provide the care.")
    reason = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(placement__isnull=False, block_contract__isnull=True)
                | Q(placement__isnull=True, block_contract__isnull=False),
                name="hand_back_one_thing",
            ),
        ]

    def __str__(self) -> str:
        thing = self.block_contract or self.placement
        return f"Hand-back of {thing} ending {self.notice_ends_on}"


class ResidentMove(models.Model):
    """One resident who must leave a home: their placement (spot or block bed), where the move is up
    to, the planned date and, once done, the day they moved and the request for their new home."""

    class Status(models.TextChoices):
        TO_ASSESS = "to_assess", "To assess"
        ASSESSED = "assessed", "Assessed"
        FAMILY_CONTACTED = "family_contacted", "Family contacted"
        NEW_HOME_FOUND = "new_home_found", "New home found"
        MOVED = "moved", "Moved"

    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    care_home = models.ForeignKey("providers.CareHome", on_delete=models.PROTECT, related_name="resident_moves")
    placement = models.OneToOneField("placements.Placement", on_delete=models.PROTECT, related_name="resident_move")
    home_closure = models.ForeignKey(HomeClosure, null=True, blank=True, on_delete=models.PROTECT, related_name="moves")
    hand_back = models.ForeignKey(HandBack, null=True, blank=True, on_delete=models.PROTECT, related_name="moves")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TO_ASSESS)
    planned_move_on = models.DateField(null=True, blank=True)
    moved_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    new_request = models.OneToOneField(
        "placements.PlacementRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moved_from",
        help_text="The urgent request for the person's new home.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["care_home_id", "placement__case_reference", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="moved", moved_on__isnull=False) | (~Q(status="moved") & Q(moved_on__isnull=True)),
                name="resident_move_moved_has_date",
            ),
            models.CheckConstraint(
                condition=Q(home_closure__isnull=False) | Q(hand_back__isnull=False),
                name="resident_move_has_cause",
            ),
        ]
        indexes = [models.Index(fields=["commissioner", "status"])]

    def __str__(self) -> str:
        return f"{self.placement.case_reference} leaving {self.care_home}"


class OffDpsChoice(models.Model):
    """A spot contract by the person's choice: their preferred home is not on the body's DPS for the
    lot, or lies in another council's area. The home accepted the council's terms at this rate;
    above the council's maximum a third party tops up under a recorded top-up agreement."""

    request = models.OneToOneField("placements.PlacementRequest", on_delete=models.PROTECT, related_name="off_dps")
    placement = models.OneToOneField("placements.Placement", on_delete=models.PROTECT, related_name="off_dps")
    care_home = models.ForeignKey("providers.CareHome", on_delete=models.PROTECT, related_name="+")
    weekly_fee = models.DecimalField(max_digits=10, decimal_places=2)
    terms_accepted = models.BooleanField(help_text="The home accepts the council's terms and conditions.")
    reason = models.TextField()
    off_dps_because = models.CharField(max_length=200, help_text="Why the home is off the DPS, as the page said.")
    host_council = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    in_county = models.BooleanField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(terms_accepted=True), name="off_dps_terms_accepted")]

    def __str__(self) -> str:
        return f"Off-DPS choice: {self.placement}"
