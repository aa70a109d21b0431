"""Celery tasks for contracts: thin wrappers around services."""

from core.tasks import service_task

from .services import fnc_rate_apply_queued, uplift_apply


@service_task("contracts.uplift_apply")
def uplift_apply_task(uplift_id: int) -> int:
    return uplift_apply(uplift_id=uplift_id).placements_uplifted


@service_task("contracts.fnc_rate_apply")
def fnc_rate_apply_task(rate_id: int) -> int:
    return fnc_rate_apply_queued(rate_id=rate_id)
