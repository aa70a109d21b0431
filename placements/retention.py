"""Personal data retention: once a closed request passes the retention period, every copy of the
person's details goes, not only the request's own fields. Copies live in awards and service
agreements (the case reference and who pays a top-up), shortlist links (who chose), and in the
text of notifications, webhook events and audit entries written along the way.

Placements sits below the apps that hold those copies, so each of them registers a
`PersonalDataHolder` at start-up saying which names it keeps, how it clears them, which of its
rows audit entries may be about, and which free text of its own to rewrite."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from core.models import AuditEvent, Notification

from .models import Placement, PlacementRequest

REMOVED = "Removed after the retention period"


@dataclass(frozen=True)
class RetentionScope:
    """The requests being anonymised, their new references, and their placements (lapsed ones too)."""

    requests: list[PlacementRequest]
    anonymous: dict[int, str]
    request_ids: list[int]
    placements: QuerySet


def _nothing(scope: RetentionScope) -> tuple:
    return ()


def _no_targets(scope: RetentionScope) -> Q:
    return Q(pk__in=[])


def _no_clear(scope: RetentionScope) -> None:
    return None


def _no_rewrite(scope: RetentionScope, replacements: dict[str, str]) -> None:
    return None


@dataclass(frozen=True)
class PersonalDataHolder:
    """One app's copies of a person's details. `names` is read before anything is cleared."""

    names: Callable[[RetentionScope], Iterable[str]] = _nothing
    clear: Callable[[RetentionScope], None] = _no_clear
    audit_targets: Callable[[RetentionScope], Q] = _no_targets
    rewrite: Callable[[RetentionScope, dict[str, str]], None] = _no_rewrite
    organisations: Callable[[RetentionScope], Iterable[int]] = _nothing


_holders: dict[str, PersonalDataHolder] = {}


def personal_data_holder_register(app_label: str, holder: PersonalDataHolder) -> None:
    """Called from an app's `ready()`; registering the same app again replaces its holder."""
    _holders[app_label] = holder


def _scrubbed(value, replacements: dict[str, str]):
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_scrubbed(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item, replacements) for key, item in value.items()}
    return value


def text_rewrite(rows: Iterable, fields: list[str], replacements: dict[str, str]) -> None:
    """Apply `replacements` to the text (and JSON) in `fields` of `rows`, saving the rows that change."""
    changed = []
    for row in rows:
        before = [getattr(row, field) for field in fields]
        after = [_scrubbed(value, replacements) for value in before]
        if after != before:
            for field, value in zip(fields, after, strict=True):
                setattr(row, field, value)
            changed.append(row)
    if changed:
        type(changed[0]).objects.bulk_update(changed, fields, batch_size=500)


def audit_targets(model, ids: Iterable[int]) -> Q:
    """Audit entries about the rows of `model` with these ids."""
    return Q(target_type=model._meta.label_lower, target_id__in=[str(pk) for pk in ids])


def personal_details_remove(*, requests: list[PlacementRequest], anonymous: dict[int, str]) -> None:
    """Clear the copies of the details of `requests` (whose own fields the caller replaces);
    `anonymous` maps each request's id to its new reference. Runs inside the caller's transaction."""
    request_ids = [request.pk for request in requests]
    # A placement kept after its award lapsed remembers its request in `lapsed_request`.
    placements = Placement.objects.filter(Q(request_id__in=request_ids) | Q(lapsed_request_id__in=request_ids))
    scope = RetentionScope(requests=requests, anonymous=anonymous, request_ids=request_ids, placements=placements)
    holders = list(_holders.values())

    replacements = {request.case_reference: anonymous[request.pk] for request in requests}
    names = [*placements.values_list("top_up_payer", flat=True)]
    for holder in holders:
        names.extend(holder.names(scope))
    replacements.update({name: REMOVED for name in names if name and name != REMOVED})
    replacements = {old: new for old, new in replacements.items() if old and old != new}

    # Longer texts first, so a name that contains another is replaced whole.
    replacements = dict(sorted(replacements.items(), key=lambda item: -len(item[0])))

    for holder in holders:
        holder.clear(scope)
    if not replacements:
        return

    targets = audit_targets(PlacementRequest, request_ids) | audit_targets(
        Placement, placements.values_list("pk", flat=True)
    )
    for holder in holders:
        targets |= holder.audit_targets(scope)
    text_rewrite(AuditEvent.objects.filter(targets), ["reason", "detail"], replacements)

    for holder in holders:
        holder.rewrite(scope, replacements)

    mentions = Q()
    for text in replacements:
        mentions |= Q(subject__contains=text) | Q(body__contains=text)
    # The council's people, and the providers that bid or hold the placement and its agreement.
    organisations = {request.commissioner_id for request in requests}
    organisations.update(placements.exclude(care_home=None).values_list("care_home__provider_id", flat=True))
    for holder in holders:
        organisations.update(holder.organisations(scope))
    notices = Notification.objects.filter(mentions, organisation_id__in=organisations)
    text_rewrite(notices, ["subject", "body"], replacements)
