"""Service-wide tasks."""

from celery import shared_task
from django.db import connection


@shared_task(name="core.ping")
def ping() -> dict:
    """Answer from a worker, proving it reaches the broker and the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (value,) = cursor.fetchone()
    return {"pong": True, "database": value == 1}
