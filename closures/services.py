"""Every write about homes closing and providers handing care back: announcing a closure, the move
plan's rows, the urgent requests for new homes, the move itself, and ending block contracts."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from bidding.services import fee_split, placement_request_cancel
from blockbeds.models import BlockContract, Occupancy
from blockbeds.services import block_contract_end, occupancy_end
from contracts.services import placement_end_record, top_up_agreement_require
from core.audit import audit_record
from core.dates import not_in_past
from core.errors import ApplicationError, ConflictError, ForbiddenError, NotFoundError
from core.notifications import notify_organisation
from lots.models import Urgency
from organisations.models import Organisation, Role
from organisations.permissions import is_broker, is_commissioner, is_council_member, is_provider_user, require
from placements.models import Placement, PlacementRequest
from placements.services import assessment_terms, placement_request_create
from placements.signals import placement_created
from providers.models import Admission, AdmissionClosure, CareHome
from providers.selectors import home_out_of_area, off_dps_reason
from providers.services import admission_closure_open

from .models import HandBack, HomeClosure, OffDpsChoice, ResidentMove
from .selectors import residents_at_home


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _bodies_with_residents(care_home: CareHome) -> list[Organisation]:
    """The bodies with someone living at the home, or a block contract there still running."""
    today = timezone.localdate()
    placed = residents_at_home(care_home=care_home).values("commissioner_id")
    contracted = BlockContract.objects.filter(care_home=care_home, end_date__gte=today).values("commissioner_id")
    return list(Organisation.objects.filter(Q(pk__in=placed) | Q(pk__in=contracted)).order_by("name"))


def _body_knows_home(body_id: int, care_home: CareHome) -> bool:
    return (
        Admission.objects.filter(commissioner_id=body_id, care_home=care_home).exists()
        or Placement.objects.filter(commissioner_id=body_id, care_home=care_home).exists()
        or BlockContract.objects.filter(commissioner_id=body_id, care_home=care_home).exists()
    )


def _closing_admission_closure(care_home: CareHome, *, reason: str) -> AdmissionClosure:
    """The home's closure to admissions for every body, because it is closing: the one in force,
    or a new one (which withdraws the open invitations at once)."""
    now = timezone.now()
    current = (
        AdmissionClosure.objects.filter(
            care_home=care_home,
            commissioner__isnull=True,
            reason=AdmissionClosure.Reason.CLOSING,
            lifted_at__isnull=True,
        )
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .first()
    )
    if current is not None:
        return current
    # Trusted call (no actor): who may announce a closure was checked by `home_closing_announce`.
    return admission_closure_open(
        actor=None, care_home=care_home, reason=AdmissionClosure.Reason.CLOSING, details=reason
    )


@transaction.atomic
def home_closing_announce(*, actor, care_home: CareHome, closing_on: date, reason: str) -> list[HomeClosure]:
    """A home is closing on `closing_on`: closed to admissions for every body from now, and a move
    plan for each body's residents there.

    A commissioner announces it for their own body (a home their body knows); the home's provider, or
    the CQC import when the home is deregistered (no actor), for every body with residents or a
    running block contract there. Announcing again changes nothing for a body that has its plan.
    """
    if actor is None:
        source, bodies = HomeClosure.Source.CQC, None
    elif is_provider_user(actor):
        if care_home.provider_id != actor.organisation_id:
            raise NotFoundError("No such care home.")
        source, bodies = HomeClosure.Source.PROVIDER, None
    elif is_commissioner(actor):
        if not _body_knows_home(actor.organisation_id, care_home):
            raise NotFoundError("No such care home.")
        source, bodies = HomeClosure.Source.COMMISSIONER, [actor.organisation]
    else:
        raise ForbiddenError("Only a commissioner or the home's provider can say a home is closing.")
    errors = {}
    if not reason.strip():
        errors["reason"] = "Say why the home is closing."
    errors.update(not_in_past(closing_on, field="closing_on", label="the date the home closes"))
    if errors:
        raise ApplicationError("The closure is not complete.", code="closure_invalid", fields=errors)
    care_home = CareHome.objects.select_for_update().get(pk=care_home.pk)
    admission_closure = _closing_admission_closure(care_home, reason=reason.strip())
    if bodies is None:
        bodies = _bodies_with_residents(care_home)
    closures = []
    for body in bodies:
        closure, created = HomeClosure.objects.get_or_create(
            care_home=care_home,
            commissioner=body,
            defaults={
                "closing_on": closing_on,
                "reason": reason.strip(),
                "source": source,
                "admission_closure": admission_closure,
                "created_by": _user(actor),
            },
        )
        closures.append(closure)
        if not created:
            continue
        closure.residents_at_start = _moves_create(care_home=care_home, body=body, closure=closure)
        closure.save(update_fields=["residents_at_start"])
        audit_record(
            actor=actor,
            verb="closures.home_closure.announced",
            target=closure,
            organisation=body,
            reason=closure.reason,
            detail={
                "care_home": care_home.pk,
                "closing_on": closing_on.isoformat(),
                "source": source,
                "residents": closure.residents_at_start,
            },
        )
        if source != HomeClosure.Source.COMMISSIONER:
            notify_organisation(
                organisation=body,
                roles=[Role.BROKER, Role.COMMISSIONER],
                verb="closures.home_closure.announced",
                subject=f"{care_home.name} is closing on {closing_on:%d/%m/%Y}",
                template="emails/dps_message.txt",
                context={"message": f"{care_home.name} is closing. Plan each resident's move: {closure.reason}"},
                dedupe_key=f"home-closure:{closure.pk}",
                link=reverse("closures:closure_detail", args=[closure.pk]),
            )
    return closures


def _moves_create(*, care_home: CareHome, body: Organisation, closure: HomeClosure) -> int:
    """A row for each of the body's residents at the home; one already on a hand-back's plan joins
    the closure's. Returns how many the plan lists."""
    placements = residents_at_home(care_home=care_home).filter(commissioner=body)
    existing = ResidentMove.objects.filter(placement__in=placements)
    existing.filter(home_closure__isnull=True).update(home_closure=closure)
    ResidentMove.objects.bulk_create(
        ResidentMove(commissioner=body, care_home=care_home, placement=placement, home_closure=closure)
        for placement in placements.exclude(resident_move__isnull=False)
    )
    return ResidentMove.objects.filter(home_closure=closure).count()


def _move_for_update(move: ResidentMove) -> ResidentMove:
    return ResidentMove.objects.select_for_update().select_related("placement", "care_home").get(pk=move.pk)


@transaction.atomic
def resident_move_update(
    *,
    actor,
    move: ResidentMove,
    status: str,
    planned_move_on: date | None = None,
    moved_on: date | None = None,
    note: str = "",
) -> ResidentMove:
    """Where one resident's move is up to. Marked moved (with the day), their placement there ends:
    a spot placement on that day (`placement_end_record`: payments stop, the agreement says ended),
    a block-bed stay by `occupancy_end` (the bed is free from that day). Brokers and commissioners of
    the body; a move once recorded is final."""
    require(is_council_member(actor, move.commissioner_id), "Only the body's brokers and commissioners plan moves.")
    move = _move_for_update(move)
    if move.status == ResidentMove.Status.MOVED:
        raise ConflictError("This resident has moved already.", code="already_moved")
    errors = {}
    if status not in ResidentMove.Status.values:
        errors["status"] = "Choose where the move is up to."
    placement = move.placement
    if status == ResidentMove.Status.MOVED:
        if moved_on is None:
            errors["moved_on"] = "Enter the day the resident moved."
        elif moved_on > timezone.localdate():
            errors["moved_on"] = "The day the resident moved must be today or earlier."
        elif moved_on < placement.start_date:
            errors["moved_on"] = f"The resident moved in on {placement.start_date:%d/%m/%Y}: choose a later day."
    if errors:
        raise ApplicationError("The move is not complete.", code="move_invalid", fields=errors)
    before = move.status
    move.status = status
    move.planned_move_on = planned_move_on
    move.moved_on = moved_on if status == ResidentMove.Status.MOVED else None
    move.note = note.strip()
    move.updated_by = _user(actor)
    move.save()
    if status == ResidentMove.Status.MOVED:
        _placement_end_on_move(placement=placement, actor=actor, moved_on=moved_on)
        _new_request_settle_on_move(move, actor=actor, moved_on=moved_on)
    audit_record(
        actor=actor,
        verb="closures.resident_move.updated",
        target=move,
        organisation=move.commissioner,
        reason=move.note,
        detail={
            "placement": placement.pk,
            "before": before,
            "after": status,
            "planned_move_on": planned_move_on.isoformat() if planned_move_on else None,
            "moved_on": moved_on.isoformat() if move.moved_on else None,
        },
    )
    return move


def _placement_end_on_move(*, placement: Placement, actor, moved_on: date) -> None:
    reason = "Moved out: the home is closing or handed the placement back."
    occupancy = Occupancy.objects.filter(placement=placement, end_date__isnull=True).first()
    if occupancy is not None:
        try:
            occupancy_end(occupancy=occupancy, actor=actor, end_date=moved_on, reason=reason)
        except ApplicationError as error:
            error.fields = (
                {"moved_on": [text for texts in error.fields.values() for text in texts]} if error.fields else {}
            )
            raise
        return
    placement_end_record(placement=placement, actor=actor, end_date=moved_on, reason=reason)


def _new_request_settle_on_move(move: ResidentMove, *, actor, moved_on: date) -> None:
    """The request raised for the resident's new home, once they have moved without it (to a home
    found another way, to family, to hospital): still being sourced, it is withdrawn and its tender
    cancelled, so homes stop bidding for a bed nobody needs; already awarded, the body's brokers are
    told, since the award and its bed hold are theirs to undo. A request that placed them is done."""
    if move.new_request_id is None:
        return
    request = PlacementRequest.objects.get(pk=move.new_request_id)
    moved = f"{moved_on:%d/%m/%Y}"
    if request.status in (PlacementRequest.Status.NEW, PlacementRequest.Status.TENDERING):
        reason = f"The resident moved on {moved} without this request, from {move.care_home.name}."
        if move.note:
            reason += f" {move.note}"
        placement_request_cancel(actor=actor, request=request, reason=reason, person_moved=True)
    elif request.status == PlacementRequest.Status.AWARDED and not _moved_by_request(move, request):
        notify_organisation(
            organisation=move.commissioner,
            roles=[Role.BROKER],
            verb="closures.resident_move.award_unneeded",
            subject=f"{request.case_reference}: moved on {moved} without the award",
            template="emails/resident_moved_award_unneeded.txt",
            context={"move": move, "request": request, "moved_on": moved_on},
            dedupe_key=f"move-{move.pk}-award-unneeded",
            link=reverse("placements:request_detail", args=[request.pk]),
        )


def _moved_by_request(move: ResidentMove, request: PlacementRequest) -> bool:
    """Whether the resident's new placement came from the request raised for the move."""
    return Placement.objects.filter(request=request).exclude(pk=move.placement_id).exists()


def _request_from(move: ResidentMove, *, actor, needed_from: date) -> PlacementRequest:
    """An urgent request for the resident's new home: the needs and area of the request that placed
    them, or, for a placement without one, the lot and the home's surroundings."""
    placement = move.placement
    original = placement.request
    if original is not None:
        return placement_request_create(
            actor=actor,
            case_reference=original.case_reference,
            lot=original.lot,
            needs_summary=original.needs_summary,
            needed_from=needed_from,
            specialisms=list(original.specialisms.all()),
            local_authority=original.local_authority,
            postcode=original.postcode,
            latitude=None if original.postcode else original.latitude,
            longitude=None if original.postcode else original.longitude,
            max_distance_km=original.max_distance_km,
            max_weekly_rate=max(original.max_weekly_rate, placement.weekly_fee),
            urgency=Urgency.URGENT_COMMUNITY,
        )
    return placement_request_create(
        actor=actor,
        case_reference=placement.case_reference,
        lot=placement.lot,
        needs_summary=f"Moving from {move.care_home.name}, which is closing; needs as their current care.",
        needed_from=needed_from,
        local_authority=move.care_home.local_authority or actor.organisation.local_authority,
        max_weekly_rate=placement.weekly_fee,
        urgency=Urgency.URGENT_COMMUNITY,
    )


@transaction.atomic
def urgent_requests_raise(*, actor, moves) -> list[PlacementRequest]:
    """An urgent placement request for each listed resident still to move who has none yet, linked to
    the move's row (and so to the old placement). Pressed twice, the second time raises none.
    Needed from the planned move (or the closing date, or a hand-back's notice end), today at the
    earliest. The body's brokers only, as for any request."""
    require(is_broker(actor), "Only brokers raise placement requests.")
    today = timezone.localdate()
    locked = (
        ResidentMove.objects.select_for_update(of=("self",))
        .filter(pk__in=[move.pk for move in moves], commissioner_id=actor.organisation_id)
        .filter(new_request__isnull=True)
        .exclude(status=ResidentMove.Status.MOVED)
        .select_related("placement__request__lot", "placement__lot", "care_home", "home_closure", "hand_back")
        .order_by("pk")
    )
    raised = []
    for move in locked:
        deadline = move.home_closure.closing_on if move.home_closure else move.hand_back.notice_ends_on
        needed_from = max(min(move.planned_move_on or deadline, deadline), today)
        request = _request_from(move, actor=actor, needed_from=needed_from)
        move.new_request = request
        move.updated_by = actor
        move.save(update_fields=["new_request", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            verb="closures.resident_move.request_raised",
            target=move,
            organisation=move.commissioner,
            detail={"placement": move.placement_id, "request": request.pk, "needed_from": needed_from.isoformat()},
        )
        raised.append(request)
    return raised


@transaction.atomic
def closure_block_contract_end(
    *, actor, closure: HomeClosure, contract: BlockContract, end_date: date, reason: str
) -> BlockContract:
    """End a block contract at a closing home (the body's commissioner, `block_contract_end`)."""
    if contract.care_home_id != closure.care_home_id or contract.commissioner_id != closure.commissioner_id:
        raise NotFoundError("No such block contract at this home.")
    return block_contract_end(contract=contract, actor=actor, end_date=end_date, reason=reason)


def _notice_errors(notice_ends_on: date | None, reason: str) -> dict:
    errors = {}
    if notice_ends_on is None:
        errors["notice_ends_on"] = "Enter the last day of care."
    else:
        errors.update(not_in_past(notice_ends_on, field="notice_ends_on", label="the last day of care"))
    if not reason.strip():
        errors["reason"] = "Say why you are handing this back."
    return errors


def _notify_hand_back(hand_back: HandBack, what: str) -> None:
    notify_organisation(
        organisation=hand_back.commissioner,
        roles=[Role.BROKER, Role.COMMISSIONER],
        verb="closures.hand_back.given",
        subject=f"{hand_back.care_home.name} hands back {what}",
        template="emails/dps_message.txt",
        context={
            "message": f"{hand_back.care_home.name} hands back {what} from {hand_back.notice_ends_on:%d/%m/%Y}: "
            f"{hand_back.reason}"
        },
        dedupe_key=f"hand-back:{hand_back.pk}",
        link=reverse("closures:closure_list"),
    )


@transaction.atomic
def placement_hand_back(*, actor, placement: Placement, notice_ends_on: date | None, reason: str) -> HandBack:
    """The home's provider gives notice on one placement: the body gets a move plan row for the
    person, worked through as for a closing home."""
    placement = Placement.objects.select_for_update(of=("self",)).select_related("care_home").get(pk=placement.pk)
    if not (is_provider_user(actor) and placement.care_home.provider_id == actor.organisation_id):
        raise NotFoundError("No such placement.")
    if placement.cancelled_at is not None or (placement.end_date and placement.end_date < timezone.localdate()):
        raise ConflictError("This placement has ended.", code="placement_ended")
    if ResidentMove.objects.filter(placement=placement).exists():
        raise ConflictError("This person's move is being planned already.", code="move_planned")
    errors = _notice_errors(notice_ends_on, reason)
    if errors:
        raise ApplicationError("The notice is not complete.", code="notice_invalid", fields=errors)
    hand_back = HandBack.objects.create(
        care_home=placement.care_home,
        commissioner_id=placement.commissioner_id,
        placement=placement,
        notice_ends_on=notice_ends_on,
        reason=reason.strip(),
        created_by=actor,
    )
    ResidentMove.objects.create(
        commissioner_id=placement.commissioner_id,
        care_home=placement.care_home,
        placement=placement,
        hand_back=hand_back,
        planned_move_on=notice_ends_on,
    )
    _hand_back_given(actor, hand_back, {"placement": placement.pk}, f"the placement {placement.case_reference}")
    return hand_back


@transaction.atomic
def block_contract_hand_back(*, actor, contract: BlockContract, notice_ends_on: date | None, reason: str) -> HandBack:
    """The contract's provider gives notice on a block contract: it ends on the notice's last day
    (`block_contract_end`), and the body is told."""
    if not (is_provider_user(actor) and contract.provider_id == actor.organisation_id):
        raise NotFoundError("No such block contract.")
    errors = _notice_errors(notice_ends_on, reason)
    if errors:
        raise ApplicationError("The notice is not complete.", code="notice_invalid", fields=errors)
    try:
        contract = block_contract_end(contract=contract, actor=actor, end_date=notice_ends_on, reason=reason)
    except ApplicationError as error:
        error.fields = {"notice_ends_on": error.fields["end_date"]} if "end_date" in error.fields else error.fields
        raise
    hand_back = HandBack.objects.create(
        care_home=contract.care_home,
        commissioner_id=contract.commissioner_id,
        block_contract=contract,
        notice_ends_on=notice_ends_on,
        reason=reason.strip(),
        created_by=actor,
    )
    _hand_back_given(actor, hand_back, {"block_contract": contract.pk}, f"the block contract {contract.reference}")
    return hand_back


def _hand_back_given(actor, hand_back: HandBack, detail: dict, what: str) -> None:
    """A notice given: audited with what it is on and its last day, and the body told."""
    audit_record(
        actor=actor,
        verb="closures.hand_back.given",
        target=hand_back,
        organisation=hand_back.commissioner,
        reason=hand_back.reason,
        detail={**detail, "notice_ends_on": hand_back.notice_ends_on.isoformat()},
    )
    _notify_hand_back(hand_back, what)


def home_deregistered(*, care_home: CareHome) -> list[HomeClosure]:
    """The CQC deregistered the home: it closes today for every body with residents or a running
    block contract there (none: nothing to plan, nothing written)."""
    if not _bodies_with_residents(care_home):
        return []
    return home_closing_announce(
        actor=None,
        care_home=care_home,
        closing_on=timezone.localdate(),
        reason="The Care Quality Commission has deregistered the home.",
    )


@transaction.atomic
def off_dps_placement_create(
    *,
    actor,
    request: PlacementRequest,
    care_home: CareHome | None,
    weekly_fee: Decimal | None,
    start_date: date | None,
    terms_accepted: bool,
    reason: str,
    host_council: Organisation | None = None,
) -> OffDpsChoice:
    """A spot contract by the person's choice, for a home off the body's DPS for the request's lot
    (not admitted, or in another council's area): any CQC-registered care home that accepts the
    council's terms. Up to the request's maximum rate the council pays it all; above it a third party
    tops up under the request's recorded top-up agreement (`top_up_agreement_require`). The
    placement (source `off_dps_choice`) is announced as any other, so its agreement and payments
    follow; the provider is asked to sign in and accept the agreement, and a host council is told.
    The body's brokers, for a request not yet out to tender."""
    require(is_broker(actor), "Only brokers place people.")
    request = PlacementRequest.objects.select_for_update().select_related("commissioner", "lot").get(pk=request.pk)
    if request.commissioner_id != actor.organisation_id:
        raise NotFoundError("No such placement request.")
    if request.status != PlacementRequest.Status.NEW:
        raise ConflictError(
            "Only a request not yet out to tender can be placed by choice: cancel its tender first.",
            code="request_not_new",
        )
    errors = {}
    because = ""
    if care_home is None:
        errors["care_home"] = "Choose the home the person has chosen."
    elif not care_home.is_registered:
        errors["care_home"] = "The home is not registered with the CQC."
    else:
        because = off_dps_reason(care_home=care_home, commissioner=request.commissioner, lot=request.lot)
        if not because:
            errors["care_home"] = "This home is on your DPS in your area: tender to it, or award a bid, as usual."
    if not terms_accepted:
        errors["terms_accepted"] = "Confirm the home accepts the council's terms and conditions."
    if weekly_fee is None or weekly_fee <= 0:
        errors["weekly_fee"] = "Enter the weekly fee agreed with the home, more than zero."
    if start_date is None:
        errors["start_date"] = "Enter the day the person moves in."
    else:
        errors.update(not_in_past(start_date, field="start_date", label="the day the person moves in"))
    if not reason.strip():
        errors["reason"] = "Say why the person chose this home."
    if host_council is not None and (
        host_council.pk == request.commissioner_id or host_council.kind != Organisation.Kind.COUNCIL
    ):
        errors["host_council"] = "Choose another council, the one where the home is."
    if errors:
        raise ApplicationError("The spot contract is not complete.", code="off_dps_invalid", fields=errors)
    split = fee_split(weekly_fee=weekly_fee, max_weekly_rate=request.max_weekly_rate)
    payer = ""
    if split.top_up:
        payer = top_up_agreement_require(request=request, top_up=split.top_up, field="weekly_fee").payer_name
    in_county = not home_out_of_area(care_home=care_home, commissioner=request.commissioner)
    now = timezone.now()
    placement = Placement.objects.create(
        commissioner_id=request.commissioner_id,
        request=request,
        case_reference=request.case_reference,
        care_home=care_home,
        lot_id=request.lot_id,
        source=Placement.Source.OFF_DPS_CHOICE,
        weekly_fee=weekly_fee,
        council_weekly_amount=split.council,
        top_up_weekly_amount=split.top_up,
        top_up_payer=payer,
        start_date=start_date,
        in_county=in_county,
        requested_at=request.requested_at,
        target_date=request.target_date,
        sourced_at=now,
        created_by=actor,
        **assessment_terms(request=request, start_date=start_date),
    )
    choice = OffDpsChoice.objects.create(
        request=request,
        placement=placement,
        care_home=care_home,
        weekly_fee=weekly_fee,
        terms_accepted=True,
        reason=reason.strip(),
        off_dps_because=because[:200],
        host_council=host_council,
        in_county=in_county,
        created_by=actor,
    )
    placement_created.send(sender=Placement, placement=placement, actor=actor)
    request.status = PlacementRequest.Status.PLACED
    request.sourced_at = now
    request.save(update_fields=["status", "sourced_at", "updated_at"])
    audit_record(
        actor=actor,
        verb="closures.off_dps.placed",
        target=request,
        organisation=request.commissioner,
        reason=choice.reason,
        detail={
            "placement": placement.pk,
            "care_home": care_home.pk,
            "weekly_fee": f"{weekly_fee:.2f}",
            "top_up": f"{split.top_up:.2f}",
            "in_county": in_county,
            "host_council": host_council.slug if host_council else None,
        },
    )
    notify_organisation(
        organisation=care_home.provider,
        verb="closures.off_dps.placed",
        subject=f"A spot placement at {care_home.name}: please accept the agreement",
        template="emails/dps_message.txt",
        context={
            "message": f"{request.commissioner.name} has placed a person at {care_home.name} from "
            f"{start_date:%d/%m/%Y} at £{weekly_fee:,.2f} a week, by the person's choice. Sign in to read "
            "and accept the service agreement."
        },
        dedupe_key=f"off-dps:{choice.pk}:provider",
        link=reverse("contracts:agreements"),
    )
    if host_council is not None:
        notify_organisation(
            organisation=host_council,
            roles=[Role.COMMISSIONER],
            verb="closures.off_dps.host_told",
            subject=f"{request.commissioner.name} has placed a person at {care_home.name} in your area",
            template="emails/dps_message.txt",
            context={
                "message": f"{request.commissioner.name} has placed a person at {care_home.name} in your area "
                f"from {start_date:%d/%m/%Y}, by the person's choice."
            },
            dedupe_key=f"off-dps:{choice.pk}:host",
        )
    return choice
