"""Reads of an organisation's webhook subscriptions and deliveries, scoped to the user."""

from core.errors import NotFoundError

from .models import WebhookDelivery, WebhookSubscription


def webhook_subscription_list(*, actor):
    if not actor.organisation_id:
        return WebhookSubscription.objects.none()
    return WebhookSubscription.objects.filter(organisation_id=actor.organisation_id).order_by("-created_at", "-id")


def webhook_subscription_get(*, actor, pk: int) -> WebhookSubscription:
    subscription = webhook_subscription_list(actor=actor).filter(pk=pk).first()
    if subscription is None:
        raise NotFoundError("No such webhook subscription.")
    return subscription


def webhook_delivery_list(*, actor, subscription: WebhookSubscription | None = None):
    deliveries = WebhookDelivery.objects.filter(subscription__organisation_id=actor.organisation_id).select_related(
        "event", "subscription"
    )
    if subscription is not None:
        deliveries = deliveries.filter(subscription=subscription)
    return deliveries.order_by("-created_at", "-id")


def webhook_delivery_get(*, actor, pk: int) -> WebhookDelivery:
    delivery = webhook_delivery_list(actor=actor).prefetch_related("attempts").filter(pk=pk).first()
    if delivery is None:
        raise NotFoundError("No such webhook delivery.")
    return delivery
