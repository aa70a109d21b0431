"""Scheduled quality work: CQC refreshes and reminders of provider returns owed."""

from django.utils import timezone

from core.tasks import service_task

from .services import cqc_refresh_dps_homes as refresh
from .services import return_reminders_send


@service_task("quality.tasks.cqc_refresh_dps_homes")
def cqc_refresh_dps_homes() -> None:
    refresh()


@service_task("quality.tasks.return_reminders_send_task")
def return_reminders_send_task() -> int:
    return return_reminders_send(on=timezone.localdate())
