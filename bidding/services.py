"""Every write of a tender's life: publish, bid, close, evaluate, award, cancel.

Deadlines are decided by the database clock inside the transaction that writes, with the
tender row locked, so a page, an API call, the admin and a Celery task all get the same answer.
"""

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    BooleanField,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from blockbeds.services import block_offer_ensure_settled
from core.audit import audit_record
from core.bulk import update_rows
from core.clock import receipt_on_database_clock
from core.dates import not_in_past
from core.errors import ApplicationError, ConflictError, NotFoundError
from core.events import domain_event_send
from core.notifications import notify_each, notify_organisation, organisation_notice
from core.templatetags.govuk import money
from lots.selectors import urgency_rules_for
from lots.services import dps_term_require
from organisations.models import Organisation, Role
from organisations.permissions import is_broker, is_provider_user, require, require_member_of
from placements.models import Placement, PlacementRequest
from placements.services import assessment_terms
from placements.signals import placement_created
from providers.geo import annotate_distance_km
from providers.models import Admission, BedVacancy, CareHome
from providers.selectors import (
    bed_vacancy_for_lot_q,
    bed_vacancy_fresh_q,
    closed_to_admissions_q,
    compliance_lapsed_q,
)
from quality.models import RatingValue
from quality.selectors import quality_rule_snapshot, quality_signals_for

from . import signals
from .hooks import award_checks_run
from .models import Award, Bid, Invitation, Tender
from .scoring import BidForScoring, ScoringRules, score_bids
from .selectors import (
    DatabaseNow,
    database_now,
    tender_close_due_q,
    tender_close_grace,
    tender_is_open,
    tender_open_q,
)


@transaction.atomic
def invitations_withdraw_for_care_home(
    *, care_home, actor, reason: str, commissioner: Organisation | None, lot=None
) -> int:
    """Take a suspended home out of tenders still open: its invitations and its bids.

    `commissioner` must be given: a body's own suspension withdraws the home from that body's
    tenders only (and `lot` narrows it to one lot). None, every body's tenders, is for the
    CQC's Inadequate rating alone, which holds on every DPS. `reason` says who acted and why,
    as the provider reads it. Returns how many invitations were withdrawn.
    """
    tenders = Tender.objects.select_for_update().filter(
        tender_open_q(), invitations__care_home=care_home, invitations__status=Invitation.Status.INVITED
    )
    if commissioner is not None:
        tenders = tenders.filter(request__commissioner=commissioner)
    if lot is not None:
        tenders = tenders.filter(request__lot=lot)
    tenders = list(tenders.select_related("request").order_by("pk"))
    if not tenders:
        return 0
    now = database_now()
    withdrawn = 0
    for tender in tenders:
        if not tender_is_open(tender, at=now):
            continue
        invitation = Invitation.objects.select_for_update().get(tender=tender, care_home=care_home)
        invitation.status = Invitation.Status.WITHDRAWN
        invitation.withdrawn_at = now
        invitation.withdrawn_reason = reason
        invitation.save(update_fields=["status", "withdrawn_at", "withdrawn_reason"])
        withdrawn += 1
        audit_record(
            actor=actor,
            verb="bidding.invitation.withdrawn",
            target=tender.request,
            organisation=tender.request.commissioner,
            reason=reason,
            detail={"tender": tender.pk, "care_home": care_home.pk, "care_home_name": care_home.name},
        )
        bid = Bid.objects.filter(invitation=invitation, status=Bid.Status.SUBMITTED).first()
        if bid is not None:
            bid.status = Bid.Status.EXCLUDED
            bid.excluded_reason = reason
            bid.updated_at = now
            bid.save(update_fields=["status", "excluded_reason", "updated_at"])
            audit_record(
                actor=actor,
                verb="bidding.bid.excluded",
                target=tender.request,
                organisation=tender.request.commissioner,
                reason=reason,
                detail={"tender": tender.pk, "bid": bid.pk, "care_home_name": care_home.name},
            )
        domain_event_send("invitation.withdrawn", invitation=invitation, bid=bid)
    return withdrawn


# --- Eligibility and publishing -------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    homes: list
    reason: str


def _area_words(request) -> str:
    parts = []
    if request.local_authority:
        parts.append(f"in {request.local_authority}")
    if request.latitude is not None and request.max_distance_km is not None:
        parts.append(f"within {request.max_distance_km.normalize():f} km of the location")
    return " or ".join(parts)


def eligible_care_homes(*, request, at: datetime | None = None) -> Eligibility:
    """The homes a tender for this request invites, or why there are none.

    Admitted to the lot by the request's commissioner (suspended admissions do not count),
    registered with the CQC, not rated Inadequate, not closed to admissions for the body at `at`
    (now), offering every needed specialism, and in the area: in the local authority, or within
    the distance of the location.
    """
    lot_number = request.lot.number
    homes = CareHome.objects.filter(
        admissions__commissioner_id=request.commissioner_id,
        admissions__lot_id=request.lot_id,
        admissions__status=Admission.Status.ADMITTED,
    )
    if not homes.exists():
        return Eligibility([], f"No home is admitted to lot {lot_number} (suspended homes are not invited).")
    homes = homes.filter(registration_status=CareHome.RegistrationStatus.REGISTERED).exclude(
        current_rating__overall=RatingValue.INADEQUATE
    )
    if not homes.exists():
        return Eligibility([], f"No admitted home in lot {lot_number} is registered and rated better than Inadequate.")
    homes = homes.exclude(closed_to_admissions_q(request.commissioner, at))
    if not homes.exists():
        return Eligibility([], f"Every admitted home in lot {lot_number} is closed to admissions.")
    homes = homes.exclude(
        compliance_lapsed_q(request.commissioner_id, timezone.localdate(at) if at else timezone.localdate())
    )
    if not homes.exists():
        return Eligibility(
            [],
            f"No admitted home in lot {lot_number} has the compliance documents you require in date "
            "(an expired one stops new placements until it is renewed).",
        )
    needed = list(request.specialisms.order_by("name"))
    for specialism in needed:
        homes = homes.filter(specialisms=specialism)
    if needed and not homes.exists():
        names = ", ".join(s.name for s in needed)
        return Eligibility([], f"No admitted home in lot {lot_number} offers all of: {names}.")
    area = Q()
    if request.local_authority:
        area |= Q(local_authority__iexact=request.local_authority)
    if request.latitude is not None and request.max_distance_km is not None:
        homes = annotate_distance_km(homes, request.latitude, request.longitude)
        area |= Q(distance_km__lte=float(request.max_distance_km))
    else:
        homes = homes.annotate(distance_km=Value(None, output_field=FloatField()))
    homes = list(homes.filter(area).select_related("provider").distinct().order_by("name", "pk"))
    if not homes:
        return Eligibility([], f"No admitted home in lot {lot_number} {_area_words(request)}.")
    return Eligibility(homes, "")


def _require_broker_of(actor, request) -> None:
    require_member_of(actor, request.commissioner_id, not_found="No such placement request.")
    require(is_broker(actor), "Only brokers can tender and award placements.")


def _closes_at(*, requested, now: datetime, rules) -> datetime:
    """The close from the window of the request's urgency rules (`urgency_rules_for`: in hours for
    urgent requests, the lot rules' window for planned ones)."""
    if requested is None:
        return now + timedelta(hours=rules.default_window_hours)
    earliest = now + timedelta(hours=rules.min_window_hours)
    latest = now + timedelta(hours=rules.max_window_hours)
    if not earliest <= requested <= latest:
        message = (
            f"The tender must close between {rules.min_window_hours} and {rules.max_window_hours} hours "
            f"from now for {rules.get_urgency_display().lower()} requests in lot {rules.lot.number}."
        )
        raise ApplicationError(message, code="window_out_of_bounds", fields={"closes_at": message})
    return requested


def local_time_text(moment: datetime) -> str:
    """A moment as people read it in notices and messages: "3 March 2026 at 14:00", UK time."""
    return timezone.localtime(moment).strftime("%-d %B %Y at %H:%M")


@transaction.atomic
def tender_publish(*, actor, request, closes_at: datetime | None = None) -> Tender:
    """Open a tender for the request and invite every eligible home; an urgent request's only those
    with a fresh matching vacancy when any has one (`urgent_invitation_homes`), on its urgency rules'
    window in hours and award rule."""
    _require_broker_of(actor, request)
    request = PlacementRequest.objects.select_for_update().select_related("lot", "commissioner").get(pk=request.pk)
    live = request.tenders.exclude(status__in=[Tender.Status.NO_BIDS, Tender.Status.CANCELLED])
    if request.status not in (PlacementRequest.Status.NEW, PlacementRequest.Status.TENDERING) or live.exists():
        raise ConflictError("This request already has a tender under way or has been decided.", code="not_publishable")
    now = database_now()
    dps_term_require(
        commissioner=request.commissioner,
        on=timezone.localdate(now),
        lot=request.lot,
        action="No call-off can be published",
    )
    # Block beds come first: a fitting void one is already paid for.
    block_offer_ensure_settled(request=request)
    rules = urgency_rules_for(request.commissioner, request.lot, request.urgency)
    closes_at = _closes_at(requested=closes_at, now=now, rules=rules)
    eligibility = eligible_care_homes(request=request, at=now)
    if not eligibility.homes:
        raise ApplicationError(eligibility.reason, code="no_eligible_homes")
    homes, sourcing, urgent = eligibility.homes, Tender.Sourcing.ELIGIBLE, request.is_urgent
    if urgent:
        # Urgent requests go first to the homes that said lately they have a bed.
        targeted = urgent_invitation_homes(request=request, homes=homes, fresh_hours=rules.vacancy_fresh_hours, at=now)
        homes, sourcing = targeted.homes, targeted.sourcing
    tender = Tender.objects.create(
        request=request,
        opened_at=now,
        closes_at=closes_at,
        quality_weight=rules.lot_rules.quality_weight,
        price_weight=rules.lot_rules.price_weight,
        not_yet_rated_score=rules.lot_rules.not_yet_rated_score,
        max_weekly_rate=request.max_weekly_rate,
        quality_rules=quality_rule_snapshot(commissioner=request.commissioner, lot=request.lot),
        award_rule=rules.award_rule if urgent else Tender.AwardRule.RANKED,
        sourcing=sourcing,
        vacancy_fresh_hours=rules.vacancy_fresh_hours if urgent else None,
        reminder_minutes_before_close=rules.reminder_minutes_before_close if urgent else None,
        created_by=actor,
    )
    Invitation.objects.bulk_create(
        Invitation(
            tender=tender,
            care_home=home,
            distance_km=None if home.distance_km is None else Decimal(str(round(home.distance_km, 1))),
        )
        for home in homes
    )
    request.status = PlacementRequest.Status.TENDERING
    request.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        verb="bidding.tender.published",
        target=request,
        organisation=request.commissioner,
        detail={
            "tender": tender.pk,
            "invited": len(homes),
            "closes_at": closes_at.isoformat(),
            "award_rule": tender.award_rule,
            "sourcing": sourcing,
        },
    )
    closes_local = local_time_text(closes_at)
    notify_each(
        [
            organisation_notice(
                organisation=provider,
                verb="bidding.tender.invited",
                subject=f"Invitation to bid: lot {request.lot.number} placement, closes {closes_local}",
                template="emails/tender_invitation.txt",
                context={"tender": tender, "request": request, "closes_at_local": closes_local},
                dedupe_key=f"tender-{tender.pk}-invited",
                link=reverse("bidding:invitation_list"),
            )
            for provider in sorted({home.provider for home in homes}, key=lambda provider: provider.pk)
        ]
    )
    domain_event_send("placement_request.published", tender=tender)
    # Robust: with the broker down the tender is still published; the sweepers queue or make its close.
    transaction.on_commit(lambda: schedule_tender_close(tender.pk, closes_at), robust=True)
    return tender


def schedule_tender_close(tender_id: int, closes_at: datetime) -> None:
    """Queue the close for the deadline if it is near; `tenders_queue_closes` queues later ones
    as they come near. A message the worker holds back for longer than the broker's visibility
    timeout would be handed out again every timeout, so none is held for long."""
    from .tasks import tender_close_task

    if closes_at - timezone.now() <= timedelta(seconds=settings.TENDER_CLOSE_QUEUE_AHEAD_SECONDS):
        tender_close_task.apply_async((tender_id,), eta=closes_at + tender_close_grace())


def tenders_queue_closes() -> int:
    """Queue the close of every open tender whose deadline falls within the queueing horizon
    (beat runs this more often than the horizon, so a tender may be queued twice: closing is
    idempotent, and the sweeper closes any whose message was lost)."""
    from .tasks import tender_close_task

    horizon = timezone.now() + timedelta(seconds=settings.TENDER_CLOSE_QUEUE_AHEAD_SECONDS)
    due = list(Tender.objects.filter(tender_open_q(), closes_at__lte=horizon).values_list("pk", "closes_at"))
    for tender_id, closes_at in due:
        tender_close_task.apply_async((tender_id,), eta=closes_at + tender_close_grace())
    return len(due)


@transaction.atomic
def placement_request_retender(
    *,
    actor,
    request,
    max_weekly_rate: Decimal | None = None,
    local_authority: str | None = None,
    max_distance_km: Decimal | None = None,
    closes_at: datetime | None = None,
    reason: str = "",
) -> Tender:
    """After a tender closed with no bids: widen the area or raise the rate, then tender again."""
    _require_broker_of(actor, request)
    request = PlacementRequest.objects.select_for_update().get(pk=request.pk)
    latest = request.tenders.order_by("-opened_at", "-pk").first()
    if latest is None or latest.status != Tender.Status.NO_BIDS:
        raise ConflictError("Only a request whose tender closed with no bids can be re-tendered.", code="not_no_bids")
    changes = {}
    if max_weekly_rate is not None and max_weekly_rate != request.max_weekly_rate:
        if max_weekly_rate < request.max_weekly_rate:
            message = "A re-tender may raise the maximum rate, not lower it."
            raise ApplicationError(message, fields={"max_weekly_rate": message})
        changes["max_weekly_rate"] = max_weekly_rate
    if local_authority is not None and local_authority != request.local_authority:
        changes["local_authority"] = local_authority
    if max_distance_km is not None and max_distance_km != request.max_distance_km:
        if request.latitude is None:
            message = "The request has no location to measure a distance from."
            raise ApplicationError(message, fields={"max_distance_km": message})
        changes["max_distance_km"] = max_distance_km
    if not changes:
        message = "Widen the area or raise the maximum rate before tendering again."
        raise ApplicationError(message, code="nothing_changed", fields={"max_weekly_rate": message})
    detail = {name: {"from": str(getattr(request, name)), "to": str(value)} for name, value in changes.items()}
    for name, value in changes.items():
        setattr(request, name, value)
    request.save(update_fields=[*changes, "updated_at"])
    audit_record(
        actor=actor,
        verb="placements.request.retendered",
        target=request,
        organisation=request.commissioner,
        reason=reason,
        detail=detail,
    )
    return tender_publish(actor=actor, request=request, closes_at=closes_at)


@transaction.atomic
def placement_request_cancel(*, actor, request, reason: str, person_moved: bool = False) -> PlacementRequest:
    """Cancel before award: the request and any tender still under way.

    Brokers cancel requests. `person_moved`: the person has moved somewhere this request did not
    find (a home closing, recorded by any broker or commissioner of the body), so it is withdrawn
    as part of recording that move.
    """
    if person_moved:
        require_member_of(actor, request.commissioner_id, not_found="No such placement request.")
    else:
        _require_broker_of(actor, request)
    if not reason.strip():
        raise ApplicationError("Give a reason for cancelling.", fields={"reason": "Enter a reason."})
    request = PlacementRequest.objects.select_for_update().get(pk=request.pk)
    if request.status not in (PlacementRequest.Status.NEW, PlacementRequest.Status.TENDERING):
        raise ConflictError("An awarded or cancelled request cannot be cancelled.", code="not_cancellable")
    tenders = list(
        Tender.objects.select_for_update().filter(
            request=request, status__in=[Tender.Status.OPEN, Tender.Status.CLOSED, Tender.Status.EVALUATED]
        )
    )
    for tender in tenders:
        tender.status = Tender.Status.CANCELLED
        tender.cancel_reason = reason
        tender.save(update_fields=["status", "cancel_reason"])
        domain_event_send("tender.cancelled", tender=tender)
        notify_each(
            [
                organisation_notice(
                    organisation=provider,
                    verb="bidding.tender.cancelled",
                    subject=f"Tender {tender.pk} cancelled",
                    template="emails/tender_cancelled.txt",
                    context={"tender": tender, "reason": reason},
                    dedupe_key=f"tender-{tender.pk}-cancelled",
                    link=reverse("bidding:invitation_list"),
                )
                for provider in Organisation.objects.filter(care_homes__invitations__tender=tender).distinct()
            ]
        )
    request.status = PlacementRequest.Status.CANCELLED
    request.cancel_reason = reason
    request.save(update_fields=["status", "cancel_reason", "updated_at"])
    audit_record(
        actor=actor,
        verb="placements.request.cancelled",
        target=request,
        organisation=request.commissioner,
        reason=reason,
        detail={"tenders": [t.pk for t in tenders]},
    )
    return request


# --- Bids: decided against the database clock with the tender row locked ---------------------


def tender_lock_open(
    tender_id: int, *, received: float | None = None, exclusive: bool = False
) -> tuple[Tender, datetime]:
    """Lock the tender row, then judge the write by when it was received, on the database clock.

    The lock is shared (FOR SHARE): bids and questions on one tender go on side by side, while a
    close, an evaluation or an award, which lock the row FOR UPDATE, wait for those in flight, and
    they for it. `exclusive` takes the row FOR UPDATE instead, for a write that may itself award
    (a bid on a first-acceptable tender), so two such bids are decided one after the other.

    `received` is the request's receipt stamp (`core.clock.request_receipt`): a bid received
    before the deadline is decided as open however long it waited for the lock or a worker,
    and one received at or after it is refused. The close waits `tender_close_grace` past the
    deadline (`tender_close_due_q`), so every bid received in time is decided before it. Without
    a stamp (tasks, commands) the moment is now. Returns the tender and the moment the write is
    judged at, which the write records. For every write that must land while the tender is open
    (bids, clarification questions); call it inside the writing transaction.
    """
    # The database clock is read with the locked row, in the same statement.
    tenders = Tender.objects.select_related("request__commissioner").annotate(read_at=DatabaseNow())
    if exclusive:
        tenders = tenders.select_for_update(of=("self",))
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM bidding_tender WHERE id = %s FOR SHARE", [tender_id])
            if cursor.fetchone() is None:
                raise NotFoundError("No such tender.")
    read_after = time.monotonic()
    tender = tenders.filter(pk=tender_id).first()
    if tender is None:
        raise NotFoundError("No such tender.")
    now = tender.read_at
    received_at = receipt_on_database_clock(received, now=now, read_after=read_after)
    if tender.status in (Tender.Status.EVALUATED, Tender.Status.AWARDED) and tender.closes_at > now:
        raise ConflictError(
            "This tender has been awarded: bids can no longer be submitted, amended or withdrawn.",
            code="tender_closed",
        )
    if not tender_is_open(tender, at=received_at):
        raise ConflictError(
            f"This tender closed on {local_time_text(tender.closes_at)}: "
            "bids can no longer be submitted, amended or withdrawn.",
            code="tender_closed",
        )
    return tender, received_at


def _require_provider_home(actor, care_home) -> None:
    require(is_provider_user(actor), "Only care providers can bid.")
    if care_home is None or care_home.provider_id != actor.organisation_id:
        message = "Choose one of your own care homes."
        raise ApplicationError(message, code="not_your_home", fields={"care_home": message})


def _require_still_eligible(care_home, tender) -> None:
    """A home suspended, deregistered or rated Inadequate since the invitation cannot bid. One
    query reads every condition (the selectors' own filters, as the invitations use them)."""
    commissioner_id = tender.request.commissioner_id
    standing = (
        CareHome.objects.filter(pk=care_home.pk)
        .annotate(
            admitted=Exists(
                Admission.objects.filter(
                    care_home=OuterRef("pk"),
                    commissioner_id=commissioner_id,
                    lot_id=tender.request.lot_id,
                    status=Admission.Status.ADMITTED,
                )
            ),
            closed=ExpressionWrapper(closed_to_admissions_q(tender.request.commissioner), output_field=BooleanField()),
            lapsed=ExpressionWrapper(
                compliance_lapsed_q(commissioner_id, timezone.localdate()), output_field=BooleanField()
            ),
        )
        .values("admitted", "closed", "lapsed", "registration_status", "current_rating__overall")
        .get()
    )
    if (
        not standing["admitted"]
        or standing["registration_status"] != CareHome.RegistrationStatus.REGISTERED
        or standing["current_rating__overall"] == RatingValue.INADEQUATE
    ):
        message = "This home is not eligible to bid: it is suspended, not registered or rated Inadequate."
        raise ApplicationError(message, code="not_eligible", fields={"care_home": message})
    if standing["closed"]:
        message = "This home is closed to admissions: it cannot bid until the closure is lifted."
        raise ApplicationError(message, code="closed_to_admissions", fields={"care_home": message})
    if standing["lapsed"]:
        message = "This home is not eligible to bid: a compliance document the council requires has expired."
        raise ApplicationError(message, code="compliance_lapsed", fields={"care_home": message})


def _validate_bid_terms(*, weekly_fee, earliest_start, needs_confirmed, start_changed: bool = True) -> None:
    errors = {}
    if weekly_fee is None or weekly_fee <= 0:
        errors["weekly_fee"] = "Enter a weekly fee above zero."
    if earliest_start is None:
        errors["earliest_start"] = "Enter the earliest date the person could move in."
    elif start_changed:
        # A start the bid already had may have passed since; only a newly given one must be ahead.
        errors.update(not_in_past(earliest_start, field="earliest_start", label="the earliest start date"))
    if not needs_confirmed:
        errors["needs_confirmed"] = "Confirm that the home can meet the person's needs."
    if errors:
        raise ApplicationError("Some of the bid is not valid.", fields=errors)


@transaction.atomic
def bid_submit(
    *,
    actor,
    tender: Tender,
    care_home,
    weekly_fee: Decimal,
    earliest_start: date,
    needs_confirmed: bool,
    notes: str = "",
    received: float | None = None,
) -> Bid:
    """`received` is the request's receipt stamp (`core.clock.request_receipt`): it decides.

    `tender` is a tender or its id (the API passes the id: whether the provider may see the
    tender is the invitation's question, asked below under the lock, so it is read only once).
    """
    _require_provider_home(actor, care_home)
    # A bid that may award at once holds the tender alone; others share it. The award rule is
    # fixed when the tender is published.
    if isinstance(tender, Tender):
        tender_id, award_rule = tender.pk, tender.award_rule
    else:
        tender_id = tender
        award_rule = Tender.objects.filter(pk=tender_id).values_list("award_rule", flat=True).first()
        if award_rule is None:
            raise NotFoundError("No such tender.")
    tender, now = tender_lock_open(
        tender_id, received=received, exclusive=award_rule == Tender.AwardRule.FIRST_ACCEPTABLE
    )
    # The invitation's row serialises two submissions for the same home.
    invitation = (
        Invitation.objects.select_for_update(of=("self",)).filter(tender=tender, care_home=care_home).order_by("pk")
    ).first()
    if invitation is None:
        raise NotFoundError("No such tender.")
    if invitation.status != Invitation.Status.INVITED:
        message = f"This home's invitation was withdrawn: {invitation.withdrawn_reason}"
        raise ApplicationError(message, code="invitation_withdrawn", fields={"care_home": message})
    _require_still_eligible(care_home, tender)
    _validate_bid_terms(weekly_fee=weekly_fee, earliest_start=earliest_start, needs_confirmed=needs_confirmed)
    bid = Bid.objects.filter(invitation=invitation).first()
    if bid is not None and bid.status == Bid.Status.SUBMITTED:
        raise ConflictError("This home has already bid: amend that bid instead.", code="already_bid")
    if bid is not None and bid.status == Bid.Status.EXCLUDED:
        raise ApplicationError(f"This home's bid was excluded: {bid.excluded_reason}", code="excluded")
    bid = bid or Bid(tender=tender, invitation=invitation, care_home=care_home, provider_id=care_home.provider_id)
    bid.weekly_fee = weekly_fee
    bid.earliest_start = earliest_start
    bid.needs_confirmed = needs_confirmed
    bid.notes = notes
    bid.status = Bid.Status.SUBMITTED
    bid.submitted_at = now
    bid.updated_at = now
    bid.submitted_by = actor
    bid.save()
    _audit_bid(actor, bid, tender, "bidding.bid.submitted")
    if tender.award_rule == Tender.AwardRule.FIRST_ACCEPTABLE:
        # Inside this transaction, with the tender row still locked: a second bid waits on the lock
        # and then finds the tender awarded, so concurrent compliant bids give exactly one award.
        tender_award_first_acceptable(tender=tender, bid=bid, now=now)
    return bid


def _audit_bid(actor, bid: Bid, tender: Tender, verb: str, reason: str = "") -> None:
    # Amounts stay out of the audit detail: the timeline is read by brokers before the close.
    audit_record(
        actor=actor,
        verb=verb,
        target=tender.request,
        organisation=tender.request.commissioner,
        reason=reason,
        detail={"tender": tender.pk, "bid": bid.pk, "care_home_name": bid.care_home.name},
    )


def _own_bid_locked(actor, bid: Bid, received: float | None) -> tuple[Bid, Tender, datetime]:
    require(is_provider_user(actor), "Only care providers can change bids.")
    if bid.provider_id != actor.organisation_id:
        raise NotFoundError("No such bid.")
    tender, now = tender_lock_open(bid.tender_id, received=received)
    bid = Bid.objects.select_for_update(of=("self",)).select_related("care_home").get(pk=bid.pk)
    if bid.status != Bid.Status.SUBMITTED:
        raise ConflictError(f"This bid is {bid.get_status_display().lower()} and cannot be changed.", code="not_live")
    return bid, tender, now


@transaction.atomic
def bid_amend(
    *,
    actor,
    bid: Bid,
    weekly_fee: Decimal | None = None,
    earliest_start: date | None = None,
    needs_confirmed: bool | None = None,
    notes: str | None = None,
    received: float | None = None,
) -> Bid:
    bid, tender, now = _own_bid_locked(actor, bid, received)
    _require_still_eligible(bid.care_home, tender)
    start_changed = earliest_start is not None and earliest_start != bid.earliest_start
    bid.weekly_fee = bid.weekly_fee if weekly_fee is None else weekly_fee
    bid.earliest_start = earliest_start or bid.earliest_start
    bid.needs_confirmed = bid.needs_confirmed if needs_confirmed is None else needs_confirmed
    bid.notes = bid.notes if notes is None else notes
    _validate_bid_terms(
        weekly_fee=bid.weekly_fee,
        earliest_start=bid.earliest_start,
        needs_confirmed=bid.needs_confirmed,
        start_changed=start_changed,
    )
    bid.updated_at = now
    bid.save(update_fields=["weekly_fee", "earliest_start", "needs_confirmed", "notes", "updated_at"])
    _audit_bid(actor, bid, tender, "bidding.bid.amended")
    return bid


@transaction.atomic
def bid_withdraw(*, actor, bid: Bid, reason: str = "", received: float | None = None) -> Bid:
    bid, tender, now = _own_bid_locked(actor, bid, received)
    bid.status = Bid.Status.WITHDRAWN
    bid.updated_at = now
    bid.save(update_fields=["status", "updated_at"])
    _audit_bid(actor, bid, tender, "bidding.bid.withdrawn", reason)
    return bid


# --- Close and evaluate: claimed by a conditional UPDATE, so running twice does the work once --


def _brokers_notify(tender: Tender, *, verb: str, subject: str, template: str, key: str) -> None:
    request = tender.request
    notify_organisation(
        organisation=request.commissioner,
        roles=[Role.BROKER],
        verb=verb,
        subject=subject,
        template=template,
        context={"tender": tender, "request": request},
        dedupe_key=f"tender-{tender.pk}-{key}",
        link=reverse("placements:request_detail", args=[request.pk]),
    )


def tender_close(*, tender_id: int) -> bool:
    """Close a tender whose deadline has passed by the grace (`tender_close_due_q`). Returns whether
    this call closed it."""
    with transaction.atomic():
        # The claim's UPDATE waits for any bid holding the tender row, and runs only after the grace.
        claimed = Tender.objects.filter(tender_close_due_q(), pk=tender_id).update(
            status=Tender.Status.CLOSED, closed_at=Now()
        )
        if not claimed:
            return False
        tender = Tender.objects.select_related("request__commissioner", "request__lot").get(pk=tender_id)
        bids = tender.bids.filter(status=Bid.Status.SUBMITTED).count()
        if bids == 0:
            tender.status = Tender.Status.NO_BIDS
            tender.save(update_fields=["status"])
        audit_record(
            actor=None,
            verb="bidding.tender.closed" if bids else "bidding.tender.closed_no_bids",
            target=tender.request,
            organisation=tender.request.commissioner,
            detail={"tender": tender.pk, "bids": bids},
        )
        domain_event_send("tender.closed", tender=tender)
        if not bids:
            _brokers_notify(
                tender,
                verb="bidding.tender.no_bids",
                subject=f"No bids: tender {tender.pk} for {tender.request.case_reference}",
                template="emails/tender_no_bids.txt",
                key="no-bids",
            )
    return True


def _rank_bids(tender: Tender) -> list[Bid]:
    """Score and rank the tender's submitted bids on quality and cost, with the weights it was published with."""
    bids = list(tender.bids.filter(status=Bid.Status.SUBMITTED).select_related("care_home__current_rating"))
    weights = (tender.quality_rules or {}).get("weights")
    rules = ScoringRules(
        quality_weight=tender.quality_weight,
        price_weight=tender.price_weight,
        not_yet_rated_score=tender.not_yet_rated_score,
        max_weekly_rate=tender.max_weekly_rate,
        quality_parts=weights,
        scored_on=timezone.localdate(),
    )
    # The signals beyond the overall rating are read only when the tender's copied rule weighs them.
    signals = (
        quality_signals_for(
            commissioner_id=tender.request.commissioner_id, care_home_ids={b.care_home_id for b in bids}
        )
        if weights
        else {}
    )
    inputs = [
        BidForScoring(
            bid_id=bid.pk,
            weekly_fee=bid.weekly_fee,
            rating=bid.care_home.current_rating.overall if bid.care_home.current_rating_id else None,
            submitted_at=bid.submitted_at,
            signals=signals.get(bid.care_home_id),
        )
        for bid in bids
    ]
    by_id = {bid.pk: bid for bid in bids}
    for score in score_bids(inputs, rules):
        bid = by_id[score.bid_id]
        bid.quality_score = score.quality_score
        bid.price_score = score.price_score
        bid.total_score = score.total_score
        bid.rank = score.rank
        bid.above_max_rate = score.above_max_rate
        bid.working = score.working
    update_rows(bids, ["quality_score", "price_score", "total_score", "rank", "above_max_rate", "working"])
    return bids


def tender_evaluate(*, tender_id: int) -> bool:
    """Score and rank a closed tender's bids. Returns whether this call evaluated it."""
    with transaction.atomic():
        claimed = Tender.objects.filter(pk=tender_id, status=Tender.Status.CLOSED).update(
            status=Tender.Status.EVALUATED, evaluated_at=Now()
        )
        if not claimed:
            return False
        tender = Tender.objects.select_related("request__commissioner", "request__lot").get(pk=tender_id)
        bids = _rank_bids(tender)
        audit_record(
            actor=None,
            verb="bidding.tender.evaluated",
            target=tender.request,
            organisation=tender.request.commissioner,
            detail={"tender": tender.pk, "ranked": len(bids)},
        )
        domain_event_send("tender.evaluated", tender=tender)
        _brokers_notify(
            tender,
            verb="bidding.tender.evaluated",
            subject=f"Ranked bids ready: tender {tender.pk} for {tender.request.case_reference}",
            template="emails/tender_evaluated.txt",
            key="evaluated",
        )
    return True


def tender_close_and_evaluate(*, tender_id: int) -> None:
    """Close if due, then evaluate if closed; each step is claimed separately so a retry resumes."""
    tender_close(tender_id=tender_id)
    tender_evaluate(tender_id=tender_id)


def tenders_close_overdue() -> int:
    """Close and evaluate every tender past its deadline (workers down, a message lost)."""
    due = list(
        Tender.objects.filter(tender_close_due_q() | Q(status=Tender.Status.CLOSED)).values_list("pk", flat=True)
    )
    for tender_id in due:
        tender_close_and_evaluate(tender_id=tender_id)
    return len(due)


# --- Award ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeSplit:
    council: Decimal
    top_up: Decimal


def fee_split(*, weekly_fee: Decimal, max_weekly_rate: Decimal) -> FeeSplit:
    """The council pays up to its maximum rate; a third party tops up the rest."""
    council = min(weekly_fee, max_weekly_rate)
    return FeeSplit(council=council, top_up=weekly_fee - council)


def bid_above_max_warning(*, bid: Bid) -> str:
    """What a provider is told when its bid is above the council's maximum rate: the bid is still
    ranked, but if chosen the council pays its maximum and someone else must pay the difference."""
    if bid.status != Bid.Status.SUBMITTED:
        return ""
    maximum = bid.tender.max_weekly_rate
    split = fee_split(weekly_fee=bid.weekly_fee, max_weekly_rate=maximum)
    if not split.top_up:
        return ""
    return (
        f"Your bid of {money(bid.weekly_fee)} a week is above the council's maximum of {money(maximum)} a week. "
        f"It is still ranked, but if it is chosen the council pays {money(maximum)} a week and the other "
        f"{money(split.top_up)} a week must be paid as a top-up by someone else, such as the person's family. "
        "Lower your bid if the home cannot accept that."
    )


@dataclass(frozen=True)
class AwardChoice:
    """The bid chosen, with the reasons and the fee split the award is written with."""

    bid: Bid
    top_ranked: bool
    reason: str
    top_up_payer: str
    split: FeeSplit
    chosen_by_person: bool
    top_up_consent: bool


@transaction.atomic
def tender_award(
    *,
    actor,
    tender: Tender,
    bid: Bid,
    reason: str = "",
    top_up_payer: str = "",
    top_up_weekly_amount: Decimal | None = None,
    start_date: date | None = None,
    standstill_waiver_reason: str = "",
) -> Award:
    """Award a ranked bid: creates the placement, stamps `sourced_at`, tells every bidder.

    The bed hold and any standstill start here; an abnormally low fee needs recorded deliverability.
    """
    _require_broker_of(actor, tender.request)
    tender = _award_lock_and_check(tender)
    choice = _award_choose(
        tender=tender, bid=bid, reason=reason, top_up_payer=top_up_payer, top_up_weekly_amount=top_up_weekly_amount
    )
    award = _award_write(actor=actor, tender=tender, choice=choice)
    placement = _award_placement_create(actor=actor, award=award, choice=choice, start_date=start_date)
    _award_announce(actor=actor, award=award, placement=placement, choice=choice, waiver=standstill_waiver_reason)
    return award


def _award_lock_and_check(tender: Tender) -> Tender:
    """Close and evaluate the tender if its deadline passed, then lock it: only an evaluated tender is awarded."""
    tender_close_and_evaluate(tender_id=tender.pk)
    tender = (
        Tender.objects.select_for_update().select_related("request__commissioner", "request__lot").get(pk=tender.pk)
    )
    if tender.status == Tender.Status.OPEN:
        raise ConflictError(
            f"Bids can be awarded after the tender closes on {local_time_text(tender.closes_at)}.", code="open"
        )
    if tender.status != Tender.Status.EVALUATED:
        raise ConflictError(
            f"This tender is {tender.get_status_display().lower()}: it cannot be awarded.", code="state"
        )
    return tender


def _award_choose(
    *, tender: Tender, bid: Bid, reason: str, top_up_payer: str, top_up_weekly_amount: Decimal | None
) -> AwardChoice:
    """One of the tender's ranked bids, a reason when it did not rank first, and who pays any top-up."""
    bid = Bid.objects.select_related("care_home", "provider").filter(pk=bid.pk, tender=tender).first()
    if bid is None or bid.status != Bid.Status.SUBMITTED or bid.rank is None:
        message = "Choose one of this tender's ranked bids."
        raise ApplicationError(message, code="invalid_bid", fields={"bid": message})
    top_ranked = bid.rank == 1
    terms = award_checks_run(tender=tender, bid=bid, reason=reason.strip(), top_up_payer=top_up_payer.strip())
    reason, top_up_payer = terms.reason, terms.top_up_payer
    if not top_ranked and not reason:
        message = "Give the reason for choosing a bid that did not rank first (for example, the person's choice)."
        raise ApplicationError(message, code="reason_required", fields={"reason": message})
    split = fee_split(weekly_fee=bid.weekly_fee, max_weekly_rate=tender.max_weekly_rate)
    if top_up_weekly_amount is not None and top_up_weekly_amount != split.top_up:
        message = f"The top-up must be {split.top_up:.2f} a week: the fee less the council's maximum rate."
        raise ApplicationError(message, code="top_up_mismatch", fields={"top_up_weekly_amount": message})
    if split.top_up and not top_up_payer.strip():
        message = f"The fee is {split.top_up:.2f} a week above the council's rate: say who pays the top-up."
        raise ApplicationError(message, code="top_up_payer_required", fields={"top_up_payer": message})
    return AwardChoice(
        bid=bid,
        top_ranked=top_ranked,
        reason=reason,
        top_up_payer=top_up_payer.strip() if split.top_up else "",
        split=split,
        chosen_by_person=terms.chosen_by_person,
        top_up_consent=terms.top_up_consent and bool(split.top_up),
    )


def _award_write(*, actor, tender: Tender, choice: AwardChoice) -> Award:
    """The award row; the one-award-per-tender constraint answers a second broker racing this one."""
    try:
        with transaction.atomic():
            return Award.objects.create(
                tender=tender,
                bid=choice.bid,
                awarded_by=actor,
                top_ranked=choice.top_ranked,
                reason=choice.reason,
                top_up_weekly_amount=choice.split.top_up,
                top_up_payer=choice.top_up_payer,
                chosen_by_person=choice.chosen_by_person,
                top_up_consent=choice.top_up_consent,
            )
    except IntegrityError as error:
        raise ConflictError("This tender has already been awarded.", code="already_awarded") from error


def _award_placement_create(*, actor, award: Award, choice: AwardChoice, start_date: date | None) -> Placement:
    """The placement the award sources, at the chosen home and fee, from the start date or the earliest possible."""
    request, bid, split = award.tender.request, choice.bid, choice.split
    start_date = start_date or max(bid.earliest_start, request.needed_from)
    return Placement.objects.create(
        commissioner=request.commissioner,
        request=request,
        case_reference=request.case_reference,
        care_home=bid.care_home,
        lot=request.lot,
        source=Placement.Source.TENDER,
        weekly_fee=bid.weekly_fee,
        council_weekly_amount=split.council,
        top_up_weekly_amount=split.top_up,
        top_up_payer=award.top_up_payer,
        start_date=start_date,
        in_county=bid.care_home.local_authority.strip().lower() == request.commissioner.local_authority.strip().lower(),
        requested_at=request.requested_at,
        target_date=request.target_date,
        sourced_at=award.awarded_at,
        created_by=actor,
        **assessment_terms(request=request, start_date=start_date),
    )


def _award_announce(*, actor, award: Award, placement: Placement, choice: AwardChoice, waiver: str) -> None:
    """Signal the placement and the award (bed hold, standstill), mark the tender and the request
    awarded, audit it, publish the event and tell every bidder, in that order."""
    tender, request, bid = award.tender, award.tender.request, choice.bid
    placement_created.send(sender=Placement, placement=placement, actor=actor)
    signals.award_made.send(sender=Award, award=award, placement=placement, standstill_waiver_reason=waiver)
    tender.status = Tender.Status.AWARDED
    tender.save(update_fields=["status"])
    request.status = PlacementRequest.Status.AWARDED
    request.sourced_at = award.awarded_at
    request.save(update_fields=["status", "sourced_at", "updated_at"])
    audit_record(
        actor=actor,
        verb="bidding.tender.awarded",
        target=request,
        organisation=request.commissioner,
        reason=choice.reason,
        detail={
            "tender": tender.pk,
            "bid": bid.pk,
            "care_home_name": bid.care_home.name,
            "rank": bid.rank,
            "weekly_fee": f"{bid.weekly_fee:.2f}",
            "top_up_weekly_amount": f"{choice.split.top_up:.2f}",
            "top_up_payer": award.top_up_payer,
            "chosen_by_person": award.chosen_by_person,
            "top_up_consent": award.top_up_consent,
            "award_rule": tender.award_rule,
        },
    )
    domain_event_send("tender.awarded", award=award)
    _notify_outcome(tender, winner=bid)


def _notify_outcome(tender: Tender, *, winner: Bid) -> None:
    link = reverse("bidding:invitation_list")
    bids = tender.bids.filter(status=Bid.Status.SUBMITTED).select_related("care_home", "provider")
    notify_each(
        [
            organisation_notice(
                organisation=bid.provider,
                verb="bidding.bid.won" if bid.pk == winner.pk else "bidding.bid.unsuccessful",
                subject=(
                    f"Placement awarded to {bid.care_home.name}"
                    if bid.pk == winner.pk
                    else f"Bid from {bid.care_home.name} was not successful"
                ),
                template="emails/bid_outcome.txt",
                context={"tender": tender, "bid": bid, "won": bid.pk == winner.pk},
                # Per winner: after a lapsed award, a bid told it lost must now hear it won.
                dedupe_key=f"tender-{tender.pk}-outcome-{bid.pk}-award-{winner.pk}",
                link=link,
            )
            for bid in bids
        ]
    )


# --- Urgent sourcing: fresh vacancies, reminders, the first acceptable bid ----------------------


@dataclass(frozen=True)
class UrgentInvitees:
    homes: list
    sourcing: str


def urgent_invitation_homes(*, request, homes: list, fresh_hours: int, at: datetime | None = None) -> UrgentInvitees:
    """The eligible homes an urgent tender invites: those with a fresh vacancy for the request's lot
    (named for the lot or for its setting), or every eligible home when none has one (the fallback,
    recorded on the tender and shown on the request's page)."""
    fresh = BedVacancy.objects.filter(
        bed_vacancy_for_lot_q(request.lot),
        bed_vacancy_fresh_q(fresh_hours=fresh_hours, at=at),
        care_home_id__in=[home.pk for home in homes],
    )
    with_vacancy = set(fresh.values_list("care_home_id", flat=True))
    if not with_vacancy:
        return UrgentInvitees(homes, Tender.Sourcing.FALLBACK)
    return UrgentInvitees([home for home in homes if home.pk in with_vacancy], Tender.Sourcing.FRESH_VACANCIES)


def bid_unmet_requirements(*, bid: Bid, tender: Tender) -> list[str]:
    """What the bid or its home lacks of the request's requirements, in words; empty when it meets
    every one. Eligibility (admitted, registered, not Inadequate, not closed) is checked on every bid."""
    request = tender.request
    unmet = []
    if bid.weekly_fee > tender.max_weekly_rate:
        unmet.append("the fee is above the maximum rate")
    if not bid.needs_confirmed:
        unmet.append("the home has not confirmed it can meet the person's needs")
    if bid.earliest_start > request.needed_from:
        unmet.append(f"the home cannot take the person by {request.needed_from:%-d %B %Y}")
    needed = set(request.specialisms.values_list("pk", flat=True))
    if needed - set(bid.care_home.specialisms.filter(pk__in=needed).values_list("pk", flat=True)):
        unmet.append("the home no longer offers every specialism the person needs")
    return unmet


FIRST_ACCEPTABLE_REASON = (
    "Awarded at once under the first acceptable rule: the first bid at or below the maximum rate from a home "
    "meeting every requirement."
)


def tender_award_first_acceptable(*, tender: Tender, bid: Bid, now: datetime) -> Award | None:
    """Under the first acceptable rule, award a compliant bid at once; leave any other bid waiting.

    Called by `bid_submit` inside its transaction with the tender row locked. The tender closes with
    the award: its bids are ranked as at any close, so the broker reads them, and the award says it
    followed the rule. A bid that falls short is recorded as not acceptable, without its amount.
    """
    unmet = bid_unmet_requirements(bid=bid, tender=tender)
    if not unmet:
        try:
            with transaction.atomic():
                tender.status = Tender.Status.EVALUATED
                tender.closed_at = now
                tender.evaluated_at = now
                tender.save(update_fields=["status", "closed_at", "evaluated_at"])
                _rank_bids(tender)
                bid = Bid.objects.select_related("care_home", "provider").get(pk=bid.pk)
                terms = award_checks_run(tender=tender, bid=bid, reason="", top_up_payer="")
        except ApplicationError as refusal:
            tender.status = Tender.Status.OPEN
            tender.closed_at = tender.evaluated_at = None
            unmet = [refusal.message]
    if unmet:
        audit_record(
            actor=None,
            verb="bidding.bid.not_acceptable",
            target=tender.request,
            organisation=tender.request.commissioner,
            detail={"tender": tender.pk, "bid": bid.pk, "care_home_name": bid.care_home.name, "unmet": unmet},
        )
        return None
    choice = AwardChoice(
        bid=bid,
        top_ranked=bid.rank == 1,
        reason=terms.reason or FIRST_ACCEPTABLE_REASON,
        top_up_payer="",
        split=fee_split(weekly_fee=bid.weekly_fee, max_weekly_rate=tender.max_weekly_rate),
        chosen_by_person=terms.chosen_by_person,
        top_up_consent=False,
    )
    # The broker who published under the rule is named on the award and the placement; the audit
    # says the service made it.
    award = _award_write(actor=tender.created_by, tender=tender, choice=choice)
    placement = _award_placement_create(actor=tender.created_by, award=award, choice=choice, start_date=None)
    _award_announce(actor=None, award=award, placement=placement, choice=choice, waiver="")
    _brokers_notify(
        tender,
        verb="bidding.tender.awarded_at_once",
        subject=f"Placement sourced: tender {tender.pk} for {tender.request.case_reference} awarded at once",
        template="emails/tender_awarded_at_once.txt",
        key=f"awarded-at-once-{award.pk}",
    )
    return award


def tender_reminders_send() -> int:
    """Remind every invited home that has not bid when its urgent tender's reminder time has come,
    once per invitation: each is claimed by a conditional UPDATE, so a second run sends nothing."""
    reminder = ExpressionWrapper(
        F("tender__reminder_minutes_before_close") * Value(timedelta(minutes=1), output_field=DurationField()),
        output_field=DurationField(),
    )
    due = (
        Invitation.objects.filter(
            status=Invitation.Status.INVITED,
            reminded_at__isnull=True,
            tender__status=Tender.Status.OPEN,
            tender__closes_at__gt=DatabaseNow(),
            tender__reminder_minutes_before_close__isnull=False,
        )
        .alias(remind_from=ExpressionWrapper(F("tender__closes_at") - reminder, output_field=DateTimeField()))
        .filter(remind_from__lte=DatabaseNow())
        .exclude(bid__status=Bid.Status.SUBMITTED)
        .values_list("pk", flat=True)
    )
    sent = 0
    for invitation_id in list(due):
        with transaction.atomic():
            claimed = Invitation.objects.filter(pk=invitation_id, reminded_at__isnull=True).update(reminded_at=Now())
            if not claimed:
                continue
            invitation = Invitation.objects.select_related(
                "care_home__provider", "tender__request__commissioner", "tender__request__lot"
            ).get(pk=invitation_id)
            tender, request = invitation.tender, invitation.tender.request
            notify_organisation(
                organisation=invitation.care_home.provider,
                verb="bidding.tender.reminder",
                subject=f"Urgent: bids close {local_time_text(tender.closes_at)} for a lot {request.lot.number} "
                f"placement ({invitation.care_home.name} has not bid)",
                template="emails/tender_reminder.txt",
                context={
                    "tender": tender,
                    "request": request,
                    "care_home": invitation.care_home,
                    "closes_at_local": local_time_text(tender.closes_at),
                },
                dedupe_key=f"tender-{tender.pk}-reminder-{invitation.pk}",
                link=reverse("bidding:invitation_list"),
            )
            audit_record(
                actor=None,
                verb="bidding.invitation.reminded",
                target=request,
                organisation=request.commissioner,
                detail={"tender": tender.pk, "care_home": invitation.care_home_id},
            )
            sent += 1
    return sent
