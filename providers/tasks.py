"""Celery tasks of the providers app: closures to admissions dated ahead take effect when they start."""

from core.tasks import DATABASE_RETRY, service_task

from .services import admission_closures_take_effect


@service_task("providers.tasks.admission_closures_take_effect_task", retry=DATABASE_RETRY)
def admission_closures_take_effect_task() -> int:
    return admission_closures_take_effect()
