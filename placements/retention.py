"""Personal data retention: once a closed request passes the retention period, every copy of the
person's details goes, not only the request's own fields. Copies live in awards and service
agreements (the case reference and who pays a top-up), shortlist links (who chose), and in the
text of notifications, webhook events and audit entries written along the way."""

from collections.abc import Iterable

from django.db.models import Q

from bidding.models import Award, Bid, Tender
from contracts.models import ServiceAgreement
from core.models import AuditEvent, Notification
from fairness.models import ShortlistLink
from integrations.models import WebhookEvent

from .models import Placement, PlacementRequest

REMOVED = "Removed after the retention period"


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


def _rewrite(rows: Iterable, fields: list[str], replacements: dict[str, str]) -> None:
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


def _targets(model, ids: Iterable[int]) -> Q:
    return Q(target_type=model._meta.label_lower, target_id__in=[str(pk) for pk in ids])


def personal_details_remove(*, requests: list[PlacementRequest], anonymous: dict[int, str]) -> None:
    """Clear the copies of the details of `requests` (whose own fields the caller replaces);
    `anonymous` maps each request's id to its new reference. Runs inside the caller's transaction."""
    request_ids = [request.pk for request in requests]
    tenders = list(Tender.objects.filter(request_id__in=request_ids).values_list("pk", flat=True))
    awards = Award.objects.filter(tender_id__in=tenders)
    links = ShortlistLink.objects.filter(tender_id__in=tenders)
    # A placement kept after its award lapsed remembers its request in `lapsed_request`.
    placements = Placement.objects.filter(Q(request_id__in=request_ids) | Q(lapsed_request_id__in=request_ids))
    agreements = ServiceAgreement.objects.filter(placement__in=placements)

    replacements = {request.case_reference: anonymous[request.pk] for request in requests}
    names = [
        *awards.values_list("top_up_payer", flat=True),
        *agreements.values_list("top_up_payer", flat=True),
        *placements.values_list("top_up_payer", flat=True),
        *links.values_list("top_up_payer", flat=True),
        *links.values_list("chosen_by_name", flat=True),
        *links.values_list("recipient", flat=True),
    ]
    replacements.update({name: REMOVED for name in names if name and name != REMOVED})
    replacements = {old: new for old, new in replacements.items() if old and old != new}

    # Longer texts first, so a name that contains another is replaced whole.
    replacements = dict(sorted(replacements.items(), key=lambda item: -len(item[0])))

    awards.exclude(top_up_payer="").update(top_up_payer=REMOVED)
    agreements.exclude(top_up_payer="").update(top_up_payer=REMOVED)
    for request in requests:
        agreements.filter(Q(placement__request_id=request.pk) | Q(placement__lapsed_request_id=request.pk)).update(
            case_reference=anonymous[request.pk]
        )
    links.exclude(recipient="").update(recipient=REMOVED)
    links.exclude(chosen_by_name="").update(chosen_by_name=REMOVED)
    links.exclude(top_up_payer="").update(top_up_payer=REMOVED)
    if not replacements:
        return

    targets = (
        _targets(PlacementRequest, request_ids)
        | _targets(Placement, placements.values_list("pk", flat=True))
        | _targets(Tender, tenders)
        | _targets(Award, awards.values_list("pk", flat=True))
        | _targets(Bid, Bid.objects.filter(tender_id__in=tenders).values_list("pk", flat=True))
        | _targets(ServiceAgreement, agreements.values_list("pk", flat=True))
        | _targets(ShortlistLink, links.values_list("pk", flat=True))
    )
    _rewrite(AuditEvent.objects.filter(targets), ["reason", "detail"], replacements)

    events = WebhookEvent.objects.filter(
        Q(payload__placement_request__id__in=request_ids)
        | Q(payload__tender__placement_request_id__in=request_ids)
        | Q(payload__placement__placement_request_id__in=request_ids)
    )
    _rewrite(events, ["payload"], replacements)

    mentions = Q()
    for text in replacements:
        mentions |= Q(subject__contains=text) | Q(body__contains=text)
    # The council's people, and the providers that bid or hold the placement and its agreement.
    organisations = {request.commissioner_id for request in requests}
    organisations.update(Bid.objects.filter(tender_id__in=tenders).values_list("provider_id", flat=True))
    organisations.update(placements.exclude(care_home=None).values_list("care_home__provider_id", flat=True))
    notices = Notification.objects.filter(mentions, organisation_id__in=organisations)
    _rewrite(notices, ["subject", "body"], replacements)
