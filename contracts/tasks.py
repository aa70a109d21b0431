"""Celery tasks for contracts: thin wrappers around services."""

from core.tasks import service_task

from .services import uplift_apply


@service_task("contracts.uplift_apply")
def uplift_apply_task(uplift_id: int) -> int:
    return uplift_apply(uplift_id=uplift_id).placements_uplifted
