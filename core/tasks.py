"""How every app declares its Celery tasks, and the service-wide tasks."""

from celery import shared_task
from django.core.mail import send_mail
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from .models import Notification

# Work that must happen even if PostgreSQL blinks (closing tenders, confirming standstills): the
# message stays queued until the task finishes, and a lost connection is retried within a minute.
DATABASE_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 10,
}
# An e-mail the mail server or the database could not take yet.
MAIL_RETRY = {"autoretry_for": (OSError, OperationalError), "retry_backoff": True, "max_retries": 8}


def service_task(name: str, *, retry: dict | None = None):
    """Declare a Celery task: a fixed name (the beat schedule and queued messages refer to it) and
    a retry policy from this module, none when the task's service schedules its own retries."""
    return shared_task(name=name, **(retry or {}))


@service_task("core.ping")
def ping() -> dict:
    """Answer from a worker, proving it reaches the broker and the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (value,) = cursor.fetchone()
    return {"pong": True, "database": value == 1}


@service_task("core.send_notification", retry=MAIL_RETRY)
def send_notification(notification_id: int) -> bool:
    """E-mail one notification; the row lock and `sent_at` make a retry send it once."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .select_related("recipient")
            .filter(pk=notification_id, sent_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        send_mail(notification.subject, notification.body, None, [notification.recipient.email])
        notification.sent_at = timezone.now()
        notification.save(update_fields=["sent_at"])
    return True
