"""Confirming standstills whose period ended without a challenge."""

from celery import shared_task

from bidding.tasks import RETRY

from .services import standstills_confirm_due


@shared_task(**RETRY)
def standstills_confirm_due_task() -> int:
    return standstills_confirm_due()
