"""Writing placement requests. Tendering, award and cancellation live in bidding.services."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.audit import audit_record
from core.dates import not_in_past
from core.errors import ApplicationError, ConflictError
from core.notifications import notify_organisation
from lots.selectors import urgency_rules_for
from organisations.models import Role
from organisations.permissions import is_broker, is_discharge_coordinator, require
from providers.postcodes import postcode_locate

from .models import Pathway, Placement, PlacementRequest, Urgency
from .signals import assessment_outcome_recorded, placement_cancelled

ANONYMISED_PREFIX = "ANON-"
ANONYMISED_NEEDS = "Removed after the personal data retention period."


def _locate(*, postcode: str, latitude, longitude) -> tuple[str, float | None, float | None]:
    """The request's location from a postcode, or from coordinates as given; not both."""
    if not postcode.strip():
        return "", latitude, longitude
    if latitude is not None or longitude is not None:
        raise ApplicationError(
            "Give the location as a postcode or as coordinates, not both.",
            code="area",
            fields={"postcode": "Enter a postcode, or the latitude and longitude, not both."},
        )
    place = postcode_locate(postcode=postcode, field="postcode")
    return place.postcode, place.latitude, place.longitude


def _validate_area(*, local_authority: str, latitude, longitude, max_distance_km) -> None:
    errors = {}
    if (latitude is None) != (longitude is None):
        errors["latitude"] = "Give both latitude and longitude, or neither."
    if latitude is not None and max_distance_km is None:
        errors["max_distance_km"] = "Give a maximum distance from the location."
    if max_distance_km is not None and latitude is None:
        errors["postcode"] = "Give the postcode the distance is measured from."
    if not local_authority and latitude is None:
        errors["local_authority"] = "Give a local authority, or a location with a maximum distance."
    if errors:
        raise ApplicationError("The area of the search is not complete.", code="area", fields=errors)


# How far from now a ready-for-discharge time may lie: people do wait in hospital for months, but a
# time years away is a typing mistake; a discharge is planned at most a fortnight ahead.
READY_EARLIEST = timedelta(days=90)
READY_LATEST = timedelta(days=14)
# A referral from the person's home postcode searches this far around it unless told otherwise.
REFERRAL_DISTANCE_KM = Decimal("20.0")


def discharge_details_errors(
    *, commissioner, urgency: str, hospital, ward_contact: str, ready_for_discharge_at, pathway: str, now: datetime
) -> dict[str, str]:
    """The rule for a request's urgency and discharge details: a hospital discharge names a hospital
    that refers to the commissioning body, the ward contact, when the person is ready (not absurdly
    far from now) and the pathway; other requests have none of these."""
    errors = {}
    if urgency not in Urgency.values:
        return {"urgency": "Choose how urgent the placement is."}
    if urgency != Urgency.HOSPITAL_DISCHARGE:
        given = {
            "hospital": hospital is not None,
            "ward_contact": bool(ward_contact.strip()),
            "ready_for_discharge_at": ready_for_discharge_at is not None,
            "pathway": bool(pathway),
        }
        return {
            name: "Only a hospital discharge has this: choose hospital discharge as the urgency, or leave it empty."
            for name, present in given.items()
            if present
        }
    if hospital is None:
        errors["hospital"] = "Choose the hospital the person is leaving."
    elif not hospital.is_hospital or not hospital.refers_to.filter(pk=commissioner.pk).exists():
        errors["hospital"] = f"Choose a hospital that refers people to {commissioner.name}."
    if not ward_contact.strip():
        errors["ward_contact"] = "Enter the ward and who to contact there."
    if ready_for_discharge_at is None:
        errors["ready_for_discharge_at"] = "Enter when the person is ready to leave hospital."
    elif ready_for_discharge_at < now - READY_EARLIEST:
        errors["ready_for_discharge_at"] = (
            f"The time the person was ready must be within the last {READY_EARLIEST.days} days."
        )
    elif ready_for_discharge_at > now + READY_LATEST:
        errors["ready_for_discharge_at"] = (
            f"The time the person will be ready must be within the next {READY_LATEST.days} days."
        )
    if pathway not in Pathway.values:
        errors["pathway"] = "Choose the discharge pathway."
    return errors


def request_target(
    *, rules, urgency: str, requested_at: datetime, ready_for_discharge_at
) -> tuple[date, datetime | None]:
    """When a request should be sourced by: a planned one by its lot's target days from the day of
    the request; an urgent one by the moment its urgency rule's target hours after the person was
    ready (or after the request), and that moment's date in Europe/London."""
    if urgency == Urgency.PLANNED:
        return timezone.localdate(requested_at) + timedelta(days=rules.lot_rules.target_days), None
    target_at = (ready_for_discharge_at or requested_at) + timedelta(hours=rules.target_hours)
    return timezone.localdate(target_at), target_at


def _request_write(
    *,
    actor,
    commissioner,
    case_reference: str,
    lot,
    needs_summary: str,
    needed_from: date,
    specialisms,
    local_authority: str,
    postcode: str,
    latitude,
    longitude,
    max_distance_km,
    max_weekly_rate,
    preferred_home,
    urgency: str,
    hospital,
    ward_contact: str,
    ready_for_discharge_at,
    pathway: str,
    verb: str,
) -> PlacementRequest:
    """Validate and write a request for a broker's body or a hospital's referral, and audit it."""
    requested_at = timezone.now()
    errors = {}
    if not case_reference.strip():
        errors["case_reference"] = "Enter the person's reference in your case system."
    if not needs_summary.strip():
        errors["needs_summary"] = "Describe the person's needs, without names or addresses."
    if max_weekly_rate is not None and max_weekly_rate <= 0:
        errors["max_weekly_rate"] = "Enter a maximum weekly rate above zero."
    errors.update(not_in_past(needed_from, field="needed_from", label="the date the placement is needed from"))
    errors.update(
        discharge_details_errors(
            commissioner=commissioner,
            urgency=urgency,
            hospital=hospital,
            ward_contact=ward_contact,
            ready_for_discharge_at=ready_for_discharge_at,
            pathway=pathway,
            now=requested_at,
        )
    )
    if errors:
        raise ApplicationError("Some of the request is not valid.", fields=errors)
    postcode, latitude, longitude = _locate(postcode=postcode, latitude=latitude, longitude=longitude)
    _validate_area(
        local_authority=local_authority, latitude=latitude, longitude=longitude, max_distance_km=max_distance_km
    )
    rules = urgency_rules_for(commissioner, lot, urgency)
    target_date, target_at = request_target(
        rules=rules, urgency=urgency, requested_at=requested_at, ready_for_discharge_at=ready_for_discharge_at
    )
    request = PlacementRequest.objects.create(
        commissioner=commissioner,
        case_reference=case_reference.strip(),
        lot=lot,
        needs_summary=needs_summary.strip(),
        local_authority=local_authority.strip(),
        postcode=postcode,
        latitude=latitude,
        longitude=longitude,
        max_distance_km=max_distance_km,
        needed_from=needed_from,
        max_weekly_rate=max_weekly_rate if max_weekly_rate is not None else rules.lot_rules.guide_weekly_fee,
        preferred_home=preferred_home,
        requested_at=requested_at,
        target_date=target_date,
        target_at=target_at,
        urgency=urgency,
        hospital=hospital,
        ward_contact=ward_contact.strip(),
        ready_for_discharge_at=ready_for_discharge_at,
        pathway=pathway,
        created_by=actor,
    )
    request.specialisms.set(specialisms)
    detail = {"lot": lot.number, "max_weekly_rate": f"{request.max_weekly_rate:.2f}", "urgency": urgency}
    if hospital is not None:
        detail["hospital"] = hospital.pk
    audit_record(actor=actor, verb=verb, target=request, organisation=commissioner, detail=detail)
    return request


@transaction.atomic
def placement_request_create(
    *,
    actor,
    case_reference: str,
    lot,
    needs_summary: str,
    needed_from: date,
    specialisms=(),
    local_authority: str = "",
    postcode: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    max_distance_km: Decimal | None = None,
    max_weekly_rate: Decimal | None = None,
    preferred_home=None,
    urgency: str = Urgency.PLANNED,
    hospital=None,
    ward_contact: str = "",
    ready_for_discharge_at: datetime | None = None,
    pathway: str = "",
) -> PlacementRequest:
    """A broker records one person's need; the target follows the lot's rules for its urgency
    (`request_target`).

    The location is a postcode (looked up in the postcode directory) or a latitude and longitude."""
    require(is_broker(actor), "Only brokers can request placements.")
    return _request_write(
        actor=actor,
        commissioner=actor.organisation,
        case_reference=case_reference,
        lot=lot,
        needs_summary=needs_summary,
        needed_from=needed_from,
        specialisms=specialisms,
        local_authority=local_authority,
        postcode=postcode,
        latitude=latitude,
        longitude=longitude,
        max_distance_km=max_distance_km,
        max_weekly_rate=max_weekly_rate,
        preferred_home=preferred_home,
        urgency=urgency,
        hospital=hospital,
        ward_contact=ward_contact,
        ready_for_discharge_at=ready_for_discharge_at,
        pathway=pathway,
        verb="placements.request.created",
    )


@transaction.atomic
def referral_create(
    *,
    actor,
    commissioner,
    case_reference: str,
    lot,
    needs_summary: str,
    ward_contact: str,
    ready_for_discharge_at: datetime | None,
    pathway: str,
    specialisms=(),
    postcode: str = "",
    max_distance_km: Decimal | None = None,
    needed_from: date | None = None,
) -> PlacementRequest:
    """A hospital's discharge coordinator refers a person ready to leave hospital to a commissioning
    body the hospital refers to: a hospital-discharge placement request of that body, which its
    brokers see at once in their queue and are told about.

    Homes are searched in the body's area, or within the distance of the person's home postcode;
    the placement is needed from the day the person is ready (today at the earliest)."""
    require(
        is_discharge_coordinator(actor) and actor.organisation is not None and actor.organisation.is_hospital,
        "Only hospital discharge coordinators raise referrals.",
    )
    hospital = actor.organisation
    if commissioner is None or not hospital.refers_to.filter(pk=commissioner.pk).exists():
        raise ApplicationError(
            "Your hospital does not refer people to that body.",
            fields={"commissioner": "Choose a council or NHS body your hospital refers people to."},
        )
    if needed_from is None:
        ready_day = timezone.localdate(ready_for_discharge_at) if ready_for_discharge_at else timezone.localdate()
        needed_from = max(ready_day, timezone.localdate())
    if postcode.strip() and max_distance_km is None:
        max_distance_km = REFERRAL_DISTANCE_KM
    request = _request_write(
        actor=actor,
        commissioner=commissioner,
        case_reference=case_reference,
        lot=lot,
        needs_summary=needs_summary,
        needed_from=needed_from,
        specialisms=specialisms,
        local_authority="" if postcode.strip() else commissioner.local_authority,
        postcode=postcode,
        latitude=None,
        longitude=None,
        max_distance_km=max_distance_km,
        max_weekly_rate=None,
        preferred_home=None,
        urgency=Urgency.HOSPITAL_DISCHARGE,
        hospital=hospital,
        ward_contact=ward_contact,
        ready_for_discharge_at=ready_for_discharge_at,
        pathway=pathway,
        verb="placements.referral.created",
    )
    notify_organisation(
        organisation=commissioner,
        roles=[Role.BROKER],
        verb="placements.referral.created",
        subject=f"Urgent: hospital discharge referral from {hospital.name}, lot {lot.number}",
        template="emails/referral_received.txt",
        context={"request": request, "hospital": hospital},
        dedupe_key=f"referral-{request.pk}-received",
        link=reverse("placements:request_detail", args=[request.pk]),
    )
    return request


def closed_requests_past_retention(*, older_than: timedelta):
    """Requests closed before the cutoff and not yet anonymised: cancelled ones by their last
    change, placed or awarded ones by the end of their placement."""
    cutoff = timezone.now() - older_than
    cancelled = Q(status=PlacementRequest.Status.CANCELLED, updated_at__lt=cutoff)
    ended = Q(
        status__in=[PlacementRequest.Status.PLACED, PlacementRequest.Status.AWARDED],
        placement__end_date__lt=timezone.localdate(cutoff),
    )
    return PlacementRequest.objects.filter(cancelled | ended).exclude(case_reference__startswith=ANONYMISED_PREFIX)


def closed_requests_anonymise(*, older_than: timedelta, batch_size: int = 200, progress=None) -> int:
    """Replace the person's case reference and needs on closed requests past retention, the
    reference and top-up payer on their placements, and every copy elsewhere (see `retention`);
    fees, dates, home and lot stay for finance.
    Runs in batches, each in its own transaction; running again finds nothing left to do."""
    done = 0
    while True:
        with transaction.atomic():
            batch = list(
                closed_requests_past_retention(older_than=older_than)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return done
            # Imported here: the retention module reads the apps built on placements.
            from .retention import personal_details_remove

            personal_details_remove(
                requests=batch, anonymous={request.pk: f"{ANONYMISED_PREFIX}{request.pk}" for request in batch}
            )
            for request in batch:
                anonymous = f"{ANONYMISED_PREFIX}{request.pk}"
                request.case_reference = anonymous
                request.needs_summary = ANONYMISED_NEEDS
                request.cancel_reason = ""
                request.save(update_fields=["case_reference", "needs_summary", "cancel_reason", "updated_at"])
                Placement.objects.filter(Q(request=request) | Q(lapsed_request=request)).update(
                    case_reference=anonymous, top_up_payer=""
                )
                audit_record(
                    actor=None,
                    verb="placements.request.anonymised",
                    target=request,
                    organisation=request.commissioner,
                    reason="Personal data retention period passed.",
                )
            done += len(batch)
        if progress:
            progress(done)


@transaction.atomic
def placement_cancel_lapsed(*, actor, placement: Placement, reason: str) -> Placement:
    """Keep the placement of an award that lapsed before the move-in, cancelled with the reason.

    It lets go of its request so the next award's placement can take it, remembering the request
    in `lapsed_request`; receivers of `placement_cancelled` close what they hold for it (contracts
    records the end on its agreement, if any).
    """
    require(is_broker(actor) and actor.organisation_id == placement.commissioner_id, "Only brokers can do this.")
    placement = Placement.objects.select_for_update().get(pk=placement.pk)
    if placement.cancelled_at is not None:
        raise ConflictError("This placement has already been cancelled.", code="cancelled")
    if not reason.strip():
        raise ApplicationError("Give the reason for cancelling.", fields={"reason": "Enter a reason."})
    placement.lapsed_request_id = placement.request_id
    placement.request = None
    placement.cancelled_at = timezone.now()
    placement.cancelled_by = actor
    placement.cancel_reason = reason.strip()
    placement.save(update_fields=["lapsed_request", "request", "cancelled_at", "cancelled_by", "cancel_reason"])
    placement_cancelled.send(sender=Placement, placement=placement, actor=actor)
    placement.refresh_from_db()
    audit_record(
        actor=actor,
        verb="placements.placement.cancelled",
        target=placement,
        organisation=placement.commissioner,
        reason=placement.cancel_reason,
        detail={"request": placement.lapsed_request_id, "care_home": placement.care_home_id},
    )
    return placement


def assessment_terms(*, request: PlacementRequest, start_date: date) -> dict:
    """What a placement made for `request` starts with when it is a discharge-to-assess (pathway 3)
    stay: the assessment period from its urgency rule's `assessment_days` from the start date, and the
    review that decides the outcome due when the period ends. Empty for any other placement. Every
    service that creates a placement from a request (an award, a block bed) spreads this in."""
    if request.pathway != Pathway.PATHWAY_3_ASSESSMENT:
        return {}
    rules = urgency_rules_for(request.commissioner, request.lot, request.urgency)
    ends_on = start_date + timedelta(days=rules.assessment_days)
    return {"pathway": request.pathway, "assessment_ends_on": ends_on, "review_on": ends_on}


def _outcome_errors(placement: Placement, *, outcome: str, on: date | None) -> dict[str, str]:
    errors = {}
    if outcome not in Placement.AssessmentOutcome.values:
        errors["outcome"] = "Choose the outcome of the assessment."
    if on is None:
        errors["on"] = "Enter the date the outcome took effect."
    elif on < placement.start_date:
        errors["on"] = f"The date must be on or after the stay began, {placement.start_date:%-d %B %Y}."
    elif on > timezone.localdate():
        errors["on"] = "The date must be today or in the past."
    return errors


@transaction.atomic
def assessment_outcome_record(placement: Placement, *, outcome: str, on: date, by, note: str = "") -> Placement:
    """Record what a discharge-to-assess (pathway 3) stay ended in, decided at its review.

    A broker of the placement's body records it once; recording the same outcome on the same date
    again changes nothing and sends nothing, and a different outcome once one is recorded is refused.
    Long-term in another home raises a new, planned request for a long-term home, linked to this stay.
    Receivers of `assessment_outcome_recorded` (contracts) issue the agreement version and payments.
    Ending the stay itself is recorded as any placement's end is (the block bed's stay or the agreement).
    """
    require(
        is_broker(by) and by.organisation_id == placement.commissioner_id,
        "Only the body's brokers can record an assessment outcome.",
    )
    placement = Placement.objects.select_for_update(of=("self",)).select_related("request", "lot").get(pk=placement.pk)
    if placement.pathway != Pathway.PATHWAY_3_ASSESSMENT:
        raise ConflictError("Only a discharge-to-assess stay has an assessment outcome.", code="not_assessment")
    if placement.cancelled_at is not None:
        raise ConflictError("This placement was cancelled: it has no assessment outcome.", code="cancelled")
    if placement.assessment_outcome:
        if placement.assessment_outcome == outcome and placement.assessment_outcome_on == on:
            return placement
        recorded = placement.get_assessment_outcome_display().lower()
        raise ConflictError(
            f"The outcome is already recorded: {recorded} from {placement.assessment_outcome_on:%-d %B %Y}.",
            code="outcome_recorded",
        )
    errors = _outcome_errors(placement, outcome=outcome, on=on)
    if errors:
        raise ApplicationError("The outcome is not complete.", fields=errors)
    placement.assessment_outcome = outcome
    placement.assessment_outcome_on = on
    placement.save(update_fields=["assessment_outcome", "assessment_outcome_on"])
    detail = {"outcome": outcome, "on": on.isoformat()}
    if outcome == Placement.AssessmentOutcome.LONG_TERM_ELSEWHERE:
        detail["request"] = _long_term_request_raise(placement, by=by, on=on).pk
    audit_record(
        actor=by,
        verb="placements.placement.assessment_outcome_recorded",
        target=placement,
        organisation=placement.commissioner,
        reason=note.strip(),
        detail=detail,
    )
    assessment_outcome_recorded.send(sender=Placement, placement=placement, outcome=outcome, on=on, by=by)
    return placement


def _long_term_request_raise(placement: Placement, *, by, on: date) -> PlacementRequest:
    """A planned request for a long-term home, from the assessment stay's request: the same person,
    lot, needs and area, needed from the outcome's date (or today, if that has passed)."""
    original = placement.request
    if original is None:
        raise ConflictError("This stay has no request to take the person's needs from.", code="no_request")
    request = placement_request_create(
        actor=by,
        case_reference=original.case_reference,
        lot=original.lot,
        needs_summary=original.needs_summary,
        needed_from=max(on, timezone.localdate()),
        specialisms=list(original.specialisms.all()),
        local_authority=original.local_authority,
        postcode=original.postcode,
        latitude=None if original.postcode else original.latitude,
        longitude=None if original.postcode else original.longitude,
        max_distance_km=original.max_distance_km,
        max_weekly_rate=original.max_weekly_rate,
    )
    request.assessment_placement = placement
    request.save(update_fields=["assessment_placement", "updated_at"])
    return request
