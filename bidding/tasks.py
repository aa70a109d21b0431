"""Celery tasks that close tender windows: one at each deadline, and a sweeper for any missed."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .services import tender_close_and_evaluate, tenders_close_overdue, tenders_queue_closes

RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 10,
}


@shared_task(**RETRY)
def tender_close_task(tender_id: int) -> None:
    tender_close_and_evaluate(tender_id=tender_id)


@shared_task(**RETRY)
def tenders_close_overdue_task() -> int:
    return tenders_close_overdue()


@shared_task(**RETRY)
def tenders_queue_closes_task() -> int:
    return tenders_queue_closes()
