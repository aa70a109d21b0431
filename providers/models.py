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
