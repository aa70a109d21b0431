"""Who uses the service: commissioning bodies, care providers, their people and systems."""

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COUNCIL = "council", "Council"
        NHS = "nhs", "NHS body"
        PROVIDER = "provider", "Care provider"
        HOSPITAL = "hospital", "Hospital (NHS trust site)"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    cqc_provider_id = models.CharField(
        "CQC provider id", max_length=20, blank=True, help_text="Care providers only, e.g. 1-101641459."
    )
    local_authority = models.CharField(
        max_length=100,
        blank=True,
        help_text="Commissioning bodies: the area they serve, used to tell in-county placements.",
    )
    timeliness_target_percent = models.DecimalField(max_digits=5, decimal_places=1, default=75)
    refers_to = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="referring_hospitals",
        help_text="Hospitals only: the commissioning bodies whose brokers source placements for its patients.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cqc_provider_id"], condition=~Q(cqc_provider_id=""), name="org_unique_cqc_provider"
            ),
            models.CheckConstraint(
                condition=Q(kind="provider") | Q(cqc_provider_id=""), name="org_cqc_id_only_for_providers"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_commissioning_body(self) -> bool:
        return self.kind in (self.Kind.COUNCIL, self.Kind.NHS)

    @property
    def is_provider(self) -> bool:
        return self.kind == self.Kind.PROVIDER

    @property
    def is_hospital(self) -> bool:
        return self.kind == self.Kind.HOSPITAL


class Role(models.TextChoices):
    BROKER = "broker", "Broker"
    COMMISSIONER = "commissioner", "Commissioner"
    PROVIDER = "provider", "Provider user"
    DISCHARGE_COORDINATOR = "discharge_coordinator", "Discharge coordinator"


COMMISSIONING_ROLES = (Role.BROKER, Role.COMMISSIONER)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("Users need an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person (or an API client's service account) acting for one organisation."""

    username = None
    email = models.EmailField(unique=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    role = models.CharField(max_length=30, choices=Role.choices, blank=True)
    is_service_account = models.BooleanField(default=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role="") | Q(organisation__isnull=False), name="user_role_needs_organisation"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def is_broker(self) -> bool:
        return self.role == Role.BROKER

    @property
    def is_commissioner(self) -> bool:
        return self.role == Role.COMMISSIONER

    @property
    def is_provider_user(self) -> bool:
        return self.role == Role.PROVIDER

    @property
    def is_discharge_coordinator(self) -> bool:
        return self.role == Role.DISCHARGE_COORDINATOR

    @property
    def is_council_user(self) -> bool:
        return self.role in COMMISSIONING_ROLES


class ApiClient(models.Model):
    """A council case system, provider system or hospital system calling the API.

    Only a hash of the secret is kept. The client acts through its own service account,
    so every permission rule that applies to people applies to systems too.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read"
        PLACEMENT_REQUESTS = "placement-requests", "Placement requests"
        BIDS = "bids", "Bids"
        DASHBOARDS = "dashboards", "Dashboards"
        WEBHOOKS = "webhooks", "Webhooks"
        VACANCIES = "vacancies", "Vacancies"
        CONTRACTS = "contracts", "Contracts"
        REFERRALS = "referrals", "Hospital discharge referrals"
        QUALITY = "quality", "Contract monitoring, concerns and improvement plans"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="api_clients")
    name = models.CharField(max_length=120)
    key_id = models.CharField(max_length=24, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="api_client")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
