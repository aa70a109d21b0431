"""Back-office views of integrations. Read-only: changes go through the services (pages, API)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline, SealedValuesAdmin, seal_fields

from .models import IdempotencyKey, WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription

# A stored response can be a provider's own bid, amount included, and the request hash is a hash of
# the bid as sent: a guessed amount could be checked against it. Neither is ever shown or filtered on.
seal_fields(IdempotencyKey, ["request_hash", "response_body"])


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["url", "organisation", "events", "created_at", "disabled_at"]
    list_filter = ["organisation"]
    exclude = ["secret"]


class WebhookAttemptInline(ReadOnlyTabularInline):
    model = WebhookAttempt
    extra = 0
    readonly_fields = ["number", "manual", "status_code", "error", "succeeded", "duration_ms", "attempted_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "subscription", "status", "attempt_count", "next_attempt_at", "delivered_at"]
    list_filter = ["status"]
    inlines = [WebhookAttemptInline]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["type", "organisation", "dedupe_key", "created_at"]
    list_filter = ["type"]
    search_fields = ["dedupe_key"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(SealedValuesAdmin, ReadOnlyAdmin):
    list_display = ["key", "user", "method", "path", "state", "response_status", "created_at"]
    list_filter = ["state"]
    exclude = ["response_body"]
