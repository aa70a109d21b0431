"""Every write to block contracts and beds: contracting, going live, filling, releasing,
taking beds out of service, and the broker's answer to a block-bed offer."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.audit import audit_record
from core.errors import ApplicationError, ConflictError, ForbiddenError
from core.notifications import notify_organisation
from organisations.models import Role
from organisations.permissions import is_broker, is_commissioner, is_council_member, is_provider_user, require
from placements.models import Placement, PlacementRequest
from placements.services import assessment_terms
from placements.signals import placement_created, placement_ended
from providers.models import Admission

from .models import (
    BedEvent,
    BlockBed,
    BlockContract,
    BlockContractRate,
    BlockOfferDecline,
    Occupancy,
    OutOfService,
    UpliftBasis,
)
from .selectors import block_offer_summaries, fitting_void_beds
from .signals import block_rate_changed


def _is_commissioner_of(actor, contract: BlockContract) -> bool:
    return is_commissioner(actor) and actor.organisation_id == contract.commissioner_id


def _is_council_user_of(actor, contract: BlockContract) -> bool:
    return is_council_member(actor, contract.commissioner_id)


def _is_provider_of(actor, contract: BlockContract) -> bool:
    return is_provider_user(actor) and actor.organisation_id == contract.provider_id


def _event(*, bed, kind, actor, effective_date=None, reason="", occupancy=None) -> BedEvent:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return BedEvent.objects.create(
        bed=bed, kind=kind, actor=actor, effective_date=effective_date, reason=reason, occupancy=occupancy
    )


def _lock_bed(bed: BlockBed) -> BlockBed:
    return BlockBed.objects.select_for_update().select_related("contract", "contract__care_home").get(pk=bed.pk)


# Contracts ----------------------------------------------------------------------------------


@transaction.atomic
def block_contract_create(
    *,
    actor,
    care_home,
    reference: str,
    contract_type: str,
    lots,
    number_of_beds: int,
    weekly_rate: Decimal,
    start_date: date,
    end_date: date,
    live_from: date | None = None,
    uplift_basis: str = UpliftBasis.NEGOTIATED,
    uplift_percentage: Decimal | None = None,
    uplift_index: str = "",
    uplift_rule: str = "",
) -> BlockContract:
    """A contract for the actor's commissioning body, with one bed row per contracted bed and
    its weekly rate as the first row of its rate history."""
    require(is_commissioner(actor), "Only commissioners manage block contracts.")
    errors = _uplift_terms_errors(uplift_basis, uplift_percentage, uplift_index)
    if weekly_rate < 0:
        errors["weekly_rate"] = "Enter a weekly rate of 0 or more."
    if end_date < start_date:
        errors["end_date"] = "The contract must end on or after its start date."
    if live_from is not None and not (start_date <= live_from <= end_date):
        errors["live_from"] = "Beds must go live within the contract dates."
    if not lots:
        errors["lots"] = "Choose the lots the beds serve."
    if number_of_beds < 1:
        errors["number_of_beds"] = "A block contract has at least one bed."
    if BlockContract.objects.filter(commissioner_id=actor.organisation_id, reference=reference).exists():
        errors["reference"] = "You already have a block contract with this reference."
    if errors:
        raise ApplicationError("The block contract is not valid.", fields=errors)
    contract = BlockContract.objects.create(
        commissioner_id=actor.organisation_id,
        provider_id=care_home.provider_id,
        care_home=care_home,
        reference=reference,
        contract_type=contract_type,
        number_of_beds=number_of_beds,
        start_date=start_date,
        end_date=end_date,
        uplift_basis=uplift_basis,
        uplift_percentage=uplift_percentage if uplift_basis == UpliftBasis.FIXED_ANNUAL else None,
        uplift_index=uplift_index if uplift_basis == UpliftBasis.INDEX_LINKED else "",
        uplift_rule=uplift_rule,
        created_by=actor,
    )
    contract.lots.set(lots)
    BlockContractRate.objects.create(
        contract=contract,
        effective_from=start_date,
        weekly_rate=weekly_rate,
        reason=BlockContractRate.Reason.INITIAL,
        created_by=actor,
    )
    beds = BlockBed.objects.bulk_create(
        BlockBed(contract=contract, label=f"{number:03d}", live_from=live_from)
        for number in range(1, number_of_beds + 1)
    )
    events = [BedEvent(bed=bed, kind=BedEvent.Kind.CONTRACTED, actor=actor, effective_date=start_date) for bed in beds]
    if live_from is not None:
        events += [
            BedEvent(bed=bed, kind=BedEvent.Kind.LIVE_DATE_SET, actor=actor, effective_date=live_from) for bed in beds
        ]
    BedEvent.objects.bulk_create(events)
    audit_record(
        actor=actor,
        verb="blockbeds.contract.created",
        target=contract,
        organisation=contract.commissioner,
        detail={
            "reference": reference,
            "care_home": care_home.pk,
            "beds": number_of_beds,
            "weekly_rate": str(weekly_rate),
            "start_date": start_date.isoformat(),
            "end_date": end_date.isoformat(),
            "lots": sorted(lot.number for lot in lots),
            "uplift_basis": uplift_basis,
        },
    )
    return contract


def _uplift_terms_errors(basis: str, percentage: Decimal | None, index: str) -> dict:
    errors = {}
    if basis not in UpliftBasis.values:
        errors["uplift_basis"] = "Choose how the rate is uplifted."
    elif basis == UpliftBasis.FIXED_ANNUAL and (percentage is None or percentage <= 0):
        errors["uplift_percentage"] = "Enter the yearly uplift percentage, more than 0."
    elif basis == UpliftBasis.INDEX_LINKED and not (index or "").strip():
        errors["uplift_index"] = "Name the index the rate follows."
    return errors


CONTRACT_EDITABLE_FIELDS = ("end_date", "uplift_basis", "uplift_percentage", "uplift_index", "uplift_rule")


@transaction.atomic
def block_contract_update(*, contract: BlockContract, actor, reason: str, **changes) -> BlockContract:
    """Change the end date or uplift terms; the reason and both values are audited.

    The weekly rate is not edited here: a new rate is a dated row (`block_contract_rate_record`).
    """
    require(_is_commissioner_of(actor, contract), "Only the contract's commissioner can change it.")
    unknown = set(changes) - set(CONTRACT_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(f"Cannot change {', '.join(sorted(unknown))}.")
    if not reason.strip():
        raise ApplicationError("Give a reason for the change.", fields={"reason": "Give a reason for the change."})
    contract = BlockContract.objects.select_for_update().get(pk=contract.pk)
    end_date = changes.get("end_date", contract.end_date)
    if end_date < contract.start_date:
        raise ApplicationError(
            "The contract must end on or after its start date.",
            fields={"end_date": "The contract must end on or after its start date."},
        )
    basis = changes.get("uplift_basis", contract.uplift_basis)
    if basis != UpliftBasis.FIXED_ANNUAL:
        changes["uplift_percentage"] = None
    if basis != UpliftBasis.INDEX_LINKED:
        changes["uplift_index"] = ""
    errors = _uplift_terms_errors(
        basis,
        changes.get("uplift_percentage", contract.uplift_percentage),
        changes.get("uplift_index", contract.uplift_index),
    )
    if errors:
        raise ApplicationError("The uplift terms are not complete.", fields=errors)
    changes = {name: value for name, value in changes.items() if getattr(contract, name) != value}
    before = {name: str(getattr(contract, name)) for name in changes}
    for name, value in changes.items():
        setattr(contract, name, value)
    contract.save()
    audit_record(
        actor=actor,
        verb="blockbeds.contract.updated",
        target=contract,
        organisation=contract.commissioner,
        reason=reason,
        detail={"before": before, "after": {name: str(getattr(contract, name)) for name in changes}},
    )
    return contract


@transaction.atomic
def block_contract_end(*, contract: BlockContract, actor, end_date: date, reason: str) -> BlockContract:
    """End a block contract early, on `end_date` (its last paid day): the commissioner ends it (a
    home closing), or the provider hands it back with notice. Never later than it ends already, nor
    before it starts; the bodies stop paying for its beds after that day."""
    require(
        _is_commissioner_of(actor, contract) or _is_provider_of(actor, contract),
        "Only the contract's commissioner or its provider can end it.",
    )
    contract = BlockContract.objects.select_for_update().select_related("care_home").get(pk=contract.pk)
    errors = {}
    if not reason.strip():
        errors["reason"] = "Give the reason the contract ends."
    if end_date < contract.start_date:
        errors["end_date"] = f"Choose a date on or after the contract's start, {contract.start_date:%d/%m/%Y}."
    elif end_date > contract.end_date:
        errors["end_date"] = f"Choose a date on or before the contract's end, {contract.end_date:%d/%m/%Y}."
    if errors:
        raise ApplicationError("The contract cannot end then.", code="block_end_invalid", fields=errors)
    before = contract.end_date
    contract.end_date = end_date
    contract.save(update_fields=["end_date", "updated_at"])
    audit_record(
        actor=actor,
        verb="blockbeds.contract.ended",
        target=contract,
        organisation=contract.commissioner,
        reason=reason.strip(),
        detail={"before": str(before), "after": str(end_date), "by_provider": _is_provider_of(actor, contract)},
    )
    return contract


@transaction.atomic
def block_contract_rate_record(
    *, contract: BlockContract, actor, effective_from: date, weekly_rate: Decimal, reason: str
) -> BlockContractRate:
    """A new weekly rate the commissioner has agreed for one contract, from a date.

    It must start inside the contract and after the contract's latest rate, so rates already
    used for payments are never rewritten. The provider is told.
    """
    require(_is_commissioner_of(actor, contract), "Only the contract's commissioner can change its rate.")
    contract = BlockContract.objects.select_for_update().select_related("provider", "commissioner").get(pk=contract.pk)
    errors = {}
    if not reason.strip():
        errors["reason"] = "Give the reason for the new rate."
    if (
        weekly_rate is None
        or not weekly_rate.is_finite()
        or not Decimal(0) <= weekly_rate < Decimal("100000000")
        or weekly_rate != weekly_rate.quantize(Decimal("0.01"))
    ):
        errors["weekly_rate"] = "Enter a weekly rate in pounds and pence, 0 or more."
    latest = contract.rates.order_by("-effective_from").first()
    if not (contract.start_date <= effective_from <= contract.end_date):
        errors["effective_from"] = f"Choose a date from {contract.start_date:%d/%m/%Y} to {contract.end_date:%d/%m/%Y}."
    elif latest is not None and effective_from <= latest.effective_from:
        errors["effective_from"] = f"Choose a date after {latest.effective_from:%d/%m/%Y}, when the latest rate starts."
    if errors:
        raise ApplicationError("The new rate cannot be recorded.", code="block_rate_invalid", fields=errors)
    rate = BlockContractRate.objects.create(
        contract=contract,
        effective_from=effective_from,
        weekly_rate=weekly_rate,
        reason=BlockContractRate.Reason.NEGOTIATED,
        basis=reason.strip(),
        created_by=actor,
    )
    block_rate_changed.send(
        sender=BlockContract, contract=contract, effective_from=effective_from, weekly_rate=weekly_rate, actor=actor
    )
    audit_record(
        actor=actor,
        verb="blockbeds.contract.rate_changed",
        target=contract,
        organisation=contract.commissioner,
        reason=reason,
        detail={
            "effective_from": effective_from.isoformat(),
            "before": str(latest.weekly_rate) if latest else None,
            "after": str(weekly_rate),
        },
    )
    notify_organisation(
        organisation=contract.provider,
        roles=[Role.PROVIDER],
        verb="blockbeds.contract.rate_changed",
        subject=f"New weekly rate for block contract {contract.reference}",
        template="blockbeds/emails/rate_changed.txt",
        context={"contract": contract, "rate": rate, "before": latest.weekly_rate if latest else None},
        dedupe_key=f"blockbeds.rate.{rate.pk}",
        link=reverse("blockbeds:contract_detail", args=[contract.pk]),
    )
    return rate


# Bed states ---------------------------------------------------------------------------------


@transaction.atomic
def block_bed_set_live(*, bed: BlockBed, actor, live_from: date, reason: str = "") -> BlockBed:
    """Set the day from which the bed is live (in payment)."""
    bed = _lock_bed(bed)
    contract = bed.contract
    require(_is_commissioner_of(actor, contract), "Only the contract's commissioner sets live dates.")
    if not (contract.start_date <= live_from <= contract.end_date):
        raise ApplicationError(
            "The bed must go live within the contract dates.",
            fields={"live_from": f"Choose a date from {contract.start_date:%d/%m/%Y} to {contract.end_date:%d/%m/%Y}."},
        )
    first = bed.occupancies.order_by("start_date").first()
    if first is not None and first.start_date < live_from:
        raise ConflictError(
            f"The bed has been filled since {first.start_date:%d/%m/%Y}; it cannot go live later than that.",
            code="bed_filled_before",
            fields={"live_from": "The bed was filled before this date."},
        )
    previous = bed.live_from
    bed.live_from = live_from
    bed.save(update_fields=["live_from"])
    _event(bed=bed, kind=BedEvent.Kind.LIVE_DATE_SET, actor=actor, effective_date=live_from, reason=reason)
    audit_record(
        actor=actor,
        verb="blockbeds.bed.live_date_set",
        target=bed,
        organisation=contract.commissioner,
        reason=reason,
        detail={"before": previous.isoformat() if previous else None, "after": live_from.isoformat()},
    )
    return bed


@transaction.atomic
def block_bed_take_out_of_service(*, bed: BlockBed, actor, start_date: date, reason: str) -> OutOfService:
    """The commissioner or the provider takes an empty bed out of use from `start_date`."""
    bed = _lock_bed(bed)
    contract = bed.contract
    require(
        _is_commissioner_of(actor, contract) or _is_provider_of(actor, contract),
        "Only the contract's commissioner or provider can take a bed out of service.",
    )
    if not reason.strip():
        raise ApplicationError("Give the reason the bed is out of service.", fields={"reason": "Enter a reason."})
    if bed.out_of_service_periods.filter(Q(end_date__isnull=True) | Q(end_date__gt=start_date)).exists():
        raise ConflictError("The bed is already out of service.", code="already_out_of_service")
    if bed.occupancies.filter(Q(end_date__isnull=True) | Q(end_date__gt=start_date)).exists():
        raise ConflictError(
            "Someone is in this bed on that date: end their stay first.",
            code="bed_occupied",
            fields={"start_date": "The bed is filled on this date."},
        )
    period = OutOfService.objects.create(bed=bed, start_date=start_date, reason=reason)
    _event(bed=bed, kind=BedEvent.Kind.OUT_OF_SERVICE, actor=actor, effective_date=start_date, reason=reason)
    audit_record(
        actor=actor,
        verb="blockbeds.bed.out_of_service",
        target=bed,
        organisation=contract.commissioner,
        reason=reason,
        detail={"start_date": start_date.isoformat()},
    )
    return period


@transaction.atomic
def block_bed_return_to_service(*, bed: BlockBed, actor, end_date: date, reason: str = "") -> OutOfService:
    bed = _lock_bed(bed)
    contract = bed.contract
    require(
        _is_commissioner_of(actor, contract) or _is_provider_of(actor, contract),
        "Only the contract's commissioner or provider can return a bed to service.",
    )
    period = bed.out_of_service_periods.filter(end_date__isnull=True).first()
    if period is None:
        raise ConflictError("The bed is not out of service.", code="not_out_of_service")
    if end_date <= period.start_date:
        raise ApplicationError(
            "The bed must come back after it went out of service.",
            fields={"end_date": f"Choose a date after {period.start_date:%d/%m/%Y}."},
        )
    period.end_date = end_date
    period.save(update_fields=["end_date"])
    _event(bed=bed, kind=BedEvent.Kind.RETURNED, actor=actor, effective_date=end_date, reason=reason)
    audit_record(
        actor=actor,
        verb="blockbeds.bed.returned_to_service",
        target=bed,
        organisation=contract.commissioner,
        reason=reason,
        detail={"end_date": end_date.isoformat()},
    )
    return period


# Filling and releasing ----------------------------------------------------------------------


def _refuse_unless_fillable(*, bed: BlockBed, request: PlacementRequest, start_date: date) -> None:
    contract = bed.contract
    if request.commissioner_id != contract.commissioner_id:
        raise ForbiddenError("This bed is not under your contract.")
    if request.status != PlacementRequest.Status.NEW:
        raise ConflictError(
            f"The request is {request.get_status_display().lower()}; only a new request can be placed in a block bed.",
            code="request_not_new",
        )
    if not contract.lots.filter(pk=request.lot_id).exists():
        raise ApplicationError(f"This contract's beds do not serve lot {request.lot.number}.", code="wrong_lot")
    if not (contract.start_date <= start_date <= contract.end_date):
        raise ApplicationError(
            "The contract does not run on that date.",
            fields={
                "start_date": f"Choose a date from {contract.start_date:%d/%m/%Y} to {contract.end_date:%d/%m/%Y}."
            },
        )
    if bed.live_from is None or bed.live_from > start_date:
        raise ConflictError("The bed is not live on that date.", code="bed_not_live")
    if bed.out_of_service_periods.filter(
        Q(start_date__lte=start_date) & (Q(end_date__isnull=True) | Q(end_date__gt=start_date))
        | Q(start_date__gt=start_date)
    ).exists():
        raise ConflictError("The bed is out of service.", code="bed_out_of_service")
    if Admission.objects.filter(
        commissioner_id=contract.commissioner_id, care_home_id=contract.care_home_id, status=Admission.Status.SUSPENDED
    ).exists():
        raise ConflictError("The home is suspended from new placements.", code="home_suspended")
    if bed.occupancies.filter(Q(end_date__isnull=True) | Q(end_date__gt=start_date)).exists():
        raise ConflictError("The bed is no longer void: someone has been placed in it.", code="bed_filled")


@transaction.atomic
def block_bed_fill(*, bed: BlockBed, request: PlacementRequest, actor, start_date: date) -> Occupancy:
    """Place the request's person in a void live bed at the contract rate.

    Creates the placement (source block bed, sourced now, the request's target date, so it
    counts in timeliness like any other) and marks the request placed. The bed row is locked
    so two brokers filling the same bed queue up and the second is refused; the database's
    exclusion constraint backs this up.
    """
    require(is_broker(actor), "Only brokers place people in block beds.")
    bed = _lock_bed(bed)
    request = PlacementRequest.objects.select_for_update().select_related("lot").get(pk=request.pk)
    require(actor.organisation_id == request.commissioner_id, "This request is not your organisation's.")
    _refuse_unless_fillable(bed=bed, request=request, start_date=start_date)
    contract = bed.contract
    home = contract.care_home
    rate = contract.rate_on(start_date)
    now = timezone.now()
    placement = Placement.objects.create(
        commissioner_id=request.commissioner_id,
        request=request,
        case_reference=request.case_reference,
        care_home=home,
        lot_id=request.lot_id,
        source=Placement.Source.BLOCK_BED,
        weekly_fee=rate,
        council_weekly_amount=rate,
        top_up_weekly_amount=Decimal("0.00"),
        start_date=start_date,
        in_county=home.local_authority.lower() == request.commissioner.local_authority.lower(),
        requested_at=request.requested_at,
        target_date=request.target_date,
        sourced_at=now,
        created_by=actor,
        **assessment_terms(request=request, start_date=start_date),
    )
    try:
        with transaction.atomic():
            occupancy = Occupancy.objects.create(bed=bed, placement=placement, start_date=start_date)
    except IntegrityError as exc:
        raise ConflictError("The bed is no longer void: someone has been placed in it.", code="bed_filled") from exc
    placement_created.send(sender=Placement, placement=placement, actor=actor)
    request.status = PlacementRequest.Status.PLACED
    request.sourced_at = now
    request.save(update_fields=["status", "sourced_at", "updated_at"])
    _event(bed=bed, kind=BedEvent.Kind.FILLED, actor=actor, effective_date=start_date, occupancy=occupancy)
    audit_record(
        actor=actor,
        verb="blockbeds.bed.filled",
        target=request,
        organisation=request.commissioner,
        detail={"bed": bed.pk, "contract": contract.reference, "placement": placement.pk, "start": str(start_date)},
    )
    return occupancy


@transaction.atomic
def occupancy_end(*, occupancy: Occupancy, actor, end_date: date, reason: str) -> Occupancy:
    """The person has left: the bed is void from `end_date` (the first free day).

    The council's brokers and commissioners (a commissioner records moves out of a closing home)
    and the bed's provider (reporting a void) may all do this.
    """
    bed = _lock_bed(occupancy.bed)
    contract = bed.contract
    require(
        is_council_member(actor, contract.commissioner_id) or _is_provider_of(actor, contract),
        "Only the council's brokers and commissioners or the bed's provider can end a stay.",
    )
    occupancy = Occupancy.objects.select_for_update().select_related("placement").get(pk=occupancy.pk)
    if occupancy.end_date is not None:
        raise ConflictError("This stay has already ended.", code="already_ended")
    if not reason.strip():
        raise ApplicationError("Give the reason the stay ended.", fields={"reason": "Enter a reason."})
    if end_date <= occupancy.start_date:
        raise ApplicationError(
            "A stay ends after it starts.",
            fields={"end_date": f"Choose a date after {occupancy.start_date:%d/%m/%Y}."},
        )
    if end_date > timezone.localdate():
        raise ApplicationError("The stay cannot end in the future.", fields={"end_date": "Choose today or earlier."})
    occupancy.end_date = end_date
    occupancy.end_reason = reason
    occupancy.save(update_fields=["end_date", "end_reason"])
    placement = occupancy.placement
    # A placement's end date is its last day; the stay's end is the first free day.
    placement.end_date = end_date - timedelta(days=1)
    placement.save(update_fields=["end_date"])
    placement_ended.send(sender=Placement, placement=placement, actor=actor)
    _event(bed=bed, kind=BedEvent.Kind.VOID, actor=actor, effective_date=end_date, reason=reason, occupancy=occupancy)
    audit_record(
        actor=actor,
        verb="blockbeds.bed.void",
        target=bed,
        organisation=contract.commissioner,
        reason=reason,
        detail={"occupancy": occupancy.pk, "placement": placement.pk, "end_date": end_date.isoformat()},
    )
    return occupancy


# Block first --------------------------------------------------------------------------------


@transaction.atomic
def block_offer_decline(*, request: PlacementRequest, actor, reason: str) -> BlockOfferDecline:
    """The broker will not use the void block beds on offer for this request, and says why."""
    require(is_broker(actor) and actor.organisation_id == request.commissioner_id, "Only the council's brokers decide.")
    request = PlacementRequest.objects.select_for_update().get(pk=request.pk)
    if not reason.strip():
        raise ApplicationError(
            "Give the reason for not using the block beds on offer.",
            code="reason_required",
            fields={"reason": "Enter the reason for not using these block beds."},
        )
    if hasattr(request, "block_offer_decline"):
        raise ConflictError("The block beds on offer have already been declined.", code="already_declined")
    offered = [bed.pk for bed in fitting_void_beds(request=request)]
    if not offered:
        raise ConflictError("No block bed is on offer for this request.", code="no_offer")
    decline = BlockOfferDecline.objects.create(request=request, reason=reason, offered_beds=offered, declined_by=actor)
    audit_record(
        actor=actor,
        verb="blockbeds.offer.declined",
        target=request,
        organisation=request.commissioner,
        reason=reason,
        detail={"offered_beds": offered},
    )
    return decline


def block_offer_pending(*, request: PlacementRequest) -> bool:
    """True while a fitting void bed is on offer for the request and the broker has not declined."""
    return block_offer_summaries(requests=[request])[request.pk].pending


def block_offer_ensure_settled(*, request: PlacementRequest) -> None:
    """Refuse to go to tender while a void block bed fits the request (block beds come first)."""
    if block_offer_pending(request=request):
        raise ConflictError(
            "A void block-booked bed fits this request. Place the person there, or decline the "
            "block beds with a reason, before publishing a tender.",
            code="block_bed_on_offer",
        )
