"""Celery tasks of the providers app: closures to admissions dated ahead take effect when they start,
and compliance documents' reminders."""

from django.utils import timezone

from core.tasks import DATABASE_RETRY, service_task

from .services import admission_closures_take_effect, compliance_reminders_send


@service_task("providers.tasks.admission_closures_take_effect_task", retry=DATABASE_RETRY)
def admission_closures_take_effect_task() -> int:
    return admission_closures_take_effect()


@service_task("providers.tasks.compliance_reminders_send_task")
def compliance_reminders_send_task() -> int:
    return compliance_reminders_send(on=timezone.localdate())
