"""Confirming standstills whose period ended without a challenge."""

from core.tasks import DATABASE_RETRY, service_task

from .services import standstills_confirm_due


@service_task("fairness.tasks.standstills_confirm_due_task", retry=DATABASE_RETRY)
def standstills_confirm_due_task() -> int:
    return standstills_confirm_due()
