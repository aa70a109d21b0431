"""Integration with other systems: idempotent API writes, webhooks, open data."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class IdempotencyKey(models.Model):
    """One caller's `Idempotency-Key` and the first response it produced.

    The row is inserted before the request runs (the unique constraint decides which of
    two concurrent retries runs it); the response is stored once the request finishes.
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    state = models.CharField(max_length=20, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class WebhookEvent(models.Model):
    """Something that happened, recorded once per organisation and dedupe key."""

    class Type(models.TextChoices):
        PLACEMENT_REQUEST_PUBLISHED = "placement_request.published", "Placement request published"
        TENDER_CLOSED = "tender.closed", "Tender closed"
        TENDER_EVALUATED = "tender.evaluated", "Tender evaluated"
        TENDER_AWARDED = "tender.awarded", "Tender awarded"
        BID_UNSUCCESSFUL = "bid.unsuccessful", "Bid unsuccessful"
        INVITATION_WITHDRAWN = "invitation.withdrawn", "Invitation withdrawn"
        PLACEMENT_STARTED = "placement.started", "Placement started"
        CARE_HOME_SUSPENDED = "care_home.suspended", "Care home suspended"
        CARE_HOME_REINSTATED = "care_home.reinstated", "Care home reinstated"
        PLACEMENT_FUNDING_CHANGED = "placement.funding_changed", "Who pays a placement's fee changed"

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="webhook_events"
    )
    type = models.CharField(max_length=60, choices=Type.choices, db_index=True)
    payload = models.JSONField()
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "dedupe_key"], name="webhook_event_once_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.organisation}"


class WebhookSubscription(models.Model):
    """An organisation's endpoint for some event types. The secret signs every delivery."""

    class SignatureVersion(models.TextChoices):
        # Subscriptions made before the service followed the Standard Webhooks specification,
        # until their secret is rotated; see integrations.signing.
        LEGACY = "legacy", "Legacy (v1=hex of timestamp.body)"
        STANDARD = "standard", "Standard Webhooks"

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="webhook_subscriptions"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(help_text="Event types to deliver.")
    description = models.CharField(max_length=200, blank=True)
    # Kept readable because signing needs it; shown to people only when created.
    secret = models.CharField(max_length=100)
    signature_version = models.CharField(
        max_length=20, choices=SignatureVersion.choices, default=SignatureVersion.STANDARD
    )
    # After a rotation, deliveries are signed with the old secret too until this time, so the
    # receiver can switch secrets without rejecting a delivery.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation__name", "url", "id"]

    def __str__(self) -> str:
        return f"{self.url} ({self.organisation})"

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None


class WebhookDelivery(models.Model):
    """One event sent to one subscription, retried with backoff until it succeeds or gives up."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Waiting to retry"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempt_count = models.PositiveIntegerField(default=0)
    # Attempts left in the current round; a manual redelivery starts a new round.
    attempts_left = models.PositiveIntegerField()
    manual = models.BooleanField(default=False, help_text="The current round was started by a person.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="webhook_delivery_once_per_subscription"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], condition=Q(status="retrying"), name="wh_retry")]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.subscription.url}: {self.get_status_display()}"


class WebhookAttempt(models.Model):
    """The delivery log: one row per HTTP attempt."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    manual = models.BooleanField(default=False, help_text="Started by a person's redelivery.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    succeeded = models.BooleanField()
    duration_ms = models.PositiveIntegerField(default=0)
    attempted_at = models.DateTimeField()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of delivery {self.delivery_id}"
