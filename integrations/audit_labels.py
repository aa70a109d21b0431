"""Integrations' audit verbs in the words people read."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "integrations.webhook_subscription.created": "Webhook subscription created",
        "integrations.webhook_subscription.disabled": "Webhook subscription turned off",
        "integrations.webhook_subscription.secret_rotated": "Webhook signing secret changed",
        "integrations.webhook_delivery.redelivered": "Webhook sent again",
    }
)
