"""Writing and reading audit events. Only services write; timelines read."""

from django.db import models

from .models import AuditEvent


def _target_type(target: models.Model) -> str:
    return target._meta.label_lower


def audit_record(
    *,
    actor,
    verb: str,
    target: models.Model,
    organisation=None,
    reason: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        organisation=organisation,
        verb=verb,
        target_type=_target_type(target),
        target_id=str(target.pk),
        reason=reason,
        detail=detail or {},
    )


def audit_timeline(*, target: models.Model):
    return AuditEvent.objects.filter(target_type=_target_type(target), target_id=str(target.pk)).select_related("actor")
