from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import services


@shared_task
def deliver_webhook(delivery_id: int) -> None:
    services.webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task
def purge_idempotency_keys() -> None:
    services.idempotency_keys_purge(older_than=timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS))


@shared_task
def emit_placement_started_events() -> None:
    services.placement_started_events_emit(today=timezone.localdate())
