"""Celery tasks for contracts: thin wrappers around services."""

from celery import shared_task

from .services import uplift_apply


@shared_task(name="contracts.uplift_apply")
def uplift_apply_task(uplift_id: int) -> int:
    return uplift_apply(uplift_id=uplift_id).placements_uplifted
