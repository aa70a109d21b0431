"""Writing and reading audit events. Only services write, and only through this module; timelines read.

People never read a verb such as `blockbeds.offer.declined`: every page, list and CSV that shows an
event shows `verb_label(event.verb)` ("Block bed offer declined"). Core is below every app, so it
cannot know their verbs: each app registers its own verbs' labels at start-up (an `audit_labels`
module imported from its `AppConfig.ready()`), as the home page's to-do items are registered.
"""

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from django.core.exceptions import ImproperlyConfigured
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


_verb_labels: dict[str, str] = {}


def verb_labels_register(labels: Mapping[str, str]) -> None:
    """Add an app's verbs and the words people read for them. Registering the same label again is
    harmless; a second, different label for a verb is a mistake and stops start-up."""
    for verb, label in labels.items():
        known = _verb_labels.get(verb)
        if known is not None and known != label:
            raise ImproperlyConfigured(f"The audit verb {verb} has two labels: {known!r} and {label!r}.")
    _verb_labels.update(labels)


def verb_labels() -> Mapping[str, str]:
    """Every registered verb and its label, read-only."""
    return MappingProxyType(_verb_labels)


def verb_label(verb: str) -> str:
    """What happened, in words: "Block bed offer declined" for `blockbeds.offer.declined`.

    A verb nobody registered (a test keeps that from happening) still reads as words rather than
    as a dotted code: its last two parts, "Offer declined".
    """
    label = _verb_labels.get(verb)
    if label is not None:
        return label
    words = " ".join(verb.split(".")[-2:]).replace("_", " ").strip()
    return words[:1].upper() + words[1:]
