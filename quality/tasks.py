"""Scheduled CQC work."""

from celery import shared_task

from .services import cqc_refresh_dps_homes as refresh


@shared_task(name="quality.tasks.cqc_refresh_dps_homes")
def cqc_refresh_dps_homes() -> None:
    refresh()
