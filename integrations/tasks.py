from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.tasks import service_task

from . import services


@service_task("integrations.tasks.deliver_webhook")
def deliver_webhook(delivery_id: int) -> None:
    services.webhook_delivery_attempt(delivery_id=delivery_id)


@service_task("integrations.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> None:
    services.idempotency_keys_purge(older_than=timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS))


@service_task("integrations.tasks.emit_placement_started_events")
def emit_placement_started_events() -> None:
    services.placement_started_events_emit(today=timezone.localdate())
