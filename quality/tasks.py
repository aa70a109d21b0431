"""Scheduled CQC work."""

from core.tasks import service_task

from .services import cqc_refresh_dps_homes as refresh


@service_task("quality.tasks.cqc_refresh_dps_homes")
def cqc_refresh_dps_homes() -> None:
    refresh()
