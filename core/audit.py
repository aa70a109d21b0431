"""Writing and reading audit events. Only services write, and only through this module; timelines read."""

from collections.abc import Iterable

from django.db import models

from .models import AuditEvent

# What an event is about: a row, or a (type, id) pair for something that is not one (an import
# batch, a sign-in attempt for an address nobody uses).
Target = models.Model | tuple[str, str]


def _target_key(target: Target) -> tuple[str, str]:
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    return target


def _event(*, actor, verb: str, target: Target, organisation, reason: str, detail: dict | None) -> AuditEvent:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    target_type, target_id = _target_key(target)
    return AuditEvent(
        actor=actor,
        organisation=organisation,
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        detail=detail or {},
    )


def audit_record(
    *,
    actor,
    verb: str,
    target: Target,
    organisation=None,
    reason: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    event = _event(actor=actor, verb=verb, target=target, organisation=organisation, reason=reason, detail=detail)
    event.save(force_insert=True)
    return event


def audit_record_many(
    *, actor, verb: str, events: Iterable[tuple[Target, dict]], organisation=None, reason: str = ""
) -> list[AuditEvent]:
    """One event per (target, detail) pair, by one actor for one organisation, in one insert."""
    return AuditEvent.objects.bulk_create(
        _event(actor=actor, verb=verb, target=target, organisation=organisation, reason=reason, detail=detail)
        for target, detail in events
    )


def audit_timeline(*, target: models.Model):
    target_type, target_id = _target_key(target)
    return AuditEvent.objects.filter(target_type=target_type, target_id=target_id).select_related("actor")
