"""Service-wide tasks."""

from celery import shared_task
from django.core.mail import send_mail
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from .models import Notification


@shared_task(name="core.ping")
def ping() -> dict:
    """Answer from a worker, proving it reaches the broker and the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (value,) = cursor.fetchone()
    return {"pong": True, "database": value == 1}


@shared_task(
    name="core.send_notification", autoretry_for=(OSError, OperationalError), retry_backoff=True, max_retries=8
)
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
