"""Writes: service agreements and their versions, fee changes, placement ends, fee uplifts."""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import DatabaseError, transaction
from django.db.models import F, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from bidding.hooks import AwardTerms
from bidding.services import fee_split
from blockbeds.models import BlockContract, BlockContractRate, UpliftBasis
from core.audit import audit_record, audit_record_many
from core.dates import not_in_past_check
from core.errors import ApplicationError, ConflictError
from core.events import domain_event_send
from core.notifications import notify_organisation
from fairness.models import ShortlistLink
from lots.models import Lot, Setting
from organisations.models import Organisation, Role
from organisations.permissions import (
    is_broker,
    is_commissioner,
    is_provider_user,
    require,
    require_council_member_or_system,
    require_member_of,
)
from placements.models import Placement, PlacementRequest

from .models import (
    NHS_PAYER_TYPES,
    Absence,
    Death,
    FeePeriod,
    FncRate,
    FundingShare,
    OutcomePayment,
    OutcomePaymentRule,
    PayerType,
    PaymentRules,
    Route,
    ServiceAgreement,
    TopUpAgreement,
    Uplift,
    UpliftRule,
)
from .selectors import (
    SHARE_ORDER,
    Fee,
    Share,
    ShareSet,
    default_shares,
    fee_history,
    fee_on,
    funding_shares_prefetch,
    payment_rules_for,
    share_sets,
    shares_on,
)

PENNY = Decimal("0.01")
UPLIFT_BATCH_SIZE = 500


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


# Fee history -------------------------------------------------------------------------------


def _initial_period(placement: Placement, actor=None) -> FeePeriod:
    return FeePeriod(
        placement=placement,
        effective_from=placement.start_date,
        weekly_fee=placement.weekly_fee,
        council_weekly_amount=placement.council_weekly_amount,
        top_up_weekly_amount=placement.top_up_weekly_amount,
        reason=FeePeriod.Reason.INITIAL,
        created_by=actor,
    )


def fee_history_start(*, placement: Placement, actor=None) -> FeePeriod:
    """Record the fee the placement was agreed at, once, before its first change."""
    period = placement.fee_periods.order_by("effective_from").first()
    if period is None:
        period = _initial_period(placement, actor)
        period.save()
    return period


def _latest_fee_date(placement: Placement) -> dt.date:
    latest = placement.fee_periods.aggregate(latest=Max("effective_from"))["latest"]
    return latest or placement.start_date


@transaction.atomic
def fee_change_record(
    *,
    placement: Placement,
    actor,
    effective_from: dt.date,
    council_weekly_amount: Decimal,
    top_up_weekly_amount: Decimal = Decimal("0"),
    note: str = "",
) -> FeePeriod:
    """A new weekly fee for a placement from a date; the agreement gets a new version."""
    require_council_member_or_system(actor, placement.commissioner_id)
    placement = Placement.objects.select_for_update().get(pk=placement.pk)
    if council_weekly_amount < 0 or top_up_weekly_amount < 0:
        raise ApplicationError("Fee amounts cannot be negative.", fields={"council_weekly_amount": "Enter 0 or more."})
    if effective_from <= _latest_fee_date(placement):
        raise ConflictError(
            "A fee change must take effect after the placement starts and after its last fee change.",
            code="fee_change_not_after_last",
            fields={"effective_from": "Enter a later date."},
        )
    if placement.end_date and effective_from > placement.end_date:
        raise ApplicationError(
            "The placement has ended by that date.", fields={"effective_from": "Enter a date before the end."}
        )
    fee_history_start(placement=placement, actor=actor)
    period = FeePeriod.objects.create(
        placement=placement,
        effective_from=effective_from,
        weekly_fee=council_weekly_amount + top_up_weekly_amount,
        council_weekly_amount=council_weekly_amount,
        top_up_weekly_amount=top_up_weekly_amount,
        reason=FeePeriod.Reason.FEE_CHANGE,
        note=note,
        created_by=actor,
    )
    before = str(placement.weekly_fee)
    _set_latest_fee(placement, period)
    placement.save(update_fields=["weekly_fee", "council_weekly_amount", "top_up_weekly_amount"])
    if placement.funding_shares.exists():
        _shares_follow_fee(
            placement,
            from_day=effective_from,
            actor=actor,
            reason=FundingShare.Reason.FEE_CHANGE,
            note=note,
            top_up=top_up_weekly_amount,
        )
    agreement_revise(placement=placement, actor=actor, reason=ServiceAgreement.Reason.FEE_CHANGE)
    audit_record(
        actor=actor,
        verb="contracts.fee.changed",
        target=placement,
        organisation=placement.commissioner,
        reason=note,
        detail={"effective_from": str(effective_from), "before": before, "after": str(period.weekly_fee)},
    )
    return period


def _set_latest_fee(placement: Placement, period: FeePeriod) -> None:
    placement.weekly_fee = period.weekly_fee
    placement.council_weekly_amount = period.council_weekly_amount
    placement.top_up_weekly_amount = period.top_up_weekly_amount


@transaction.atomic
def placement_end_record(*, placement: Placement, actor, end_date: dt.date, reason: str = "") -> Placement:
    """Record the last day of a placement; the agreement gets a new version saying so."""
    require_council_member_or_system(actor, placement.commissioner_id)
    placement = Placement.objects.select_for_update().get(pk=placement.pk)
    if end_date < placement.start_date:
        raise ApplicationError(
            "A placement cannot end before it starts.", fields={"end_date": "Enter a date on or after the start."}
        )
    if end_date < _latest_fee_date(placement):
        raise ConflictError(
            "The placement has a fee change after that date.",
            code="end_before_fee_change",
            fields={"end_date": "Enter a date on or after the last fee change."},
        )
    before = str(placement.end_date or "")
    placement.end_date = end_date
    placement.save(update_fields=["end_date"])
    agreement_revise(placement=placement, actor=actor, reason=ServiceAgreement.Reason.ENDED)
    audit_record(
        actor=actor,
        verb="contracts.placement.ended",
        target=placement,
        organisation=placement.commissioner,
        reason=reason,
        detail={"before": before, "after": str(end_date)},
    )
    return placement


# Service agreements ------------------------------------------------------------------------


def _agreement_terms(placement: Placement, fee_effective_from: dt.date) -> dict:
    home = placement.care_home
    return {
        "commissioner_id": placement.commissioner_id,
        "provider_id": home.provider_id,
        "commissioner_name": placement.commissioner.name,
        "provider_name": home.provider.name,
        "care_home_name": home.name,
        "care_home_address": home.address,
        "cqc_location_id": home.cqc_location_id,
        "lot_name": str(placement.lot),
        "case_reference": placement.case_reference,
        "start_date": placement.start_date,
        "end_date": placement.end_date,
        "fee_effective_from": fee_effective_from,
        "weekly_fee": placement.weekly_fee,
        "council_weekly_amount": placement.council_weekly_amount,
        "top_up_weekly_amount": placement.top_up_weekly_amount,
        "top_up_payer": placement.top_up_payer,
        **_funding_terms(placement),
    }


def _funding_terms(placement: Placement) -> dict:
    """Who pays what as the agreement states it: the latest shares, the top-up agreement, and the
    body's rules for absences and deaths."""
    sets = share_sets(placement=placement)
    latest = sets[-1] if sets else None
    top_up = placement.top_up_agreements.filter(stopped_on__isnull=True).order_by("-recorded_at").first()
    rules = payment_rules_for(placement.commissioner_id)
    return {
        "funding_shares": [
            {
                **row,
                "payer_type_label": PayerType(row["payer_type"]).label,
                "effective_from": str(latest.effective_from),
            }
            for row in _shares_text(latest.shares)
        ]
        if latest
        else [],
        "top_up_terms": (
            f"{top_up.payer_name} ({top_up.relationship}) agreed on {top_up.signed_on:%-d %B %Y} "
            f"({top_up.get_signed_via_display().lower()}) to pay £{top_up.weekly_amount:,.2f} a week "
            f"from {top_up.starts_on:%-d %B %Y}; affordability confirmed by the council. "
            "The council stays liable for the whole fee if the top-up stops."
            if top_up
            else ""
        ),
        "payment_terms": (
            f"While the resident is away in hospital the full fee is paid for the first {rules.absence_full_weeks} "
            f"weeks, then {rules.absence_reduced_percent.normalize():f}% of it. After a death the fee is paid for "
            f"{rules.death_paid_days} days."
        ),
    }


def _notify_agreement(agreement: ServiceAgreement) -> None:
    notify_organisation(
        organisation=agreement.provider,
        roles=[Role.PROVIDER],
        verb="contracts.agreement.issued",
        subject=f"Service agreement {agreement.reference} to accept",
        template="contracts/emails/agreement_issued.txt",
        context={"agreement": agreement},
        dedupe_key=f"contracts.agreement.{agreement.pk}.issued",
        link=reverse("contracts:agreement_detail", args=[agreement.pk]),
    )


@transaction.atomic
def agreement_create_for_placement(*, placement: Placement, actor) -> ServiceAgreement:
    """Generate the placement's service agreement; calling again returns the current version."""
    require_council_member_or_system(actor, placement.commissioner_id)
    # The lock makes two simultaneous calls produce one agreement, not a constraint error.
    placement = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("commissioner", "care_home__provider", "lot")
        .get(pk=placement.pk)
    )
    current = ServiceAgreement.objects.filter(placement=placement, is_current=True).first()
    if current is not None:
        return current
    if placement.care_home is None:
        raise ApplicationError(
            "An agreement needs the care home the person is placed in.", code="placement_without_home"
        )
    fee_history_start(placement=placement, actor=actor)
    top_up_agreement_attach(placement=placement)
    funding_shares_start(placement=placement, actor=actor)
    agreement = ServiceAgreement.objects.create(
        placement=placement,
        version=1,
        reason=ServiceAgreement.Reason.PLACEMENT,
        created_by=actor,
        **_agreement_terms(placement, _latest_fee_date(placement)),
    )
    audit_record(
        actor=actor,
        verb="contracts.agreement.created",
        target=agreement,
        organisation=placement.commissioner,
        detail={"placement": placement.pk, "version": 1, "weekly_fee": str(agreement.weekly_fee)},
    )
    _notify_agreement(agreement)
    return agreement


@transaction.atomic
def agreement_revise(*, placement: Placement, actor, reason: str) -> ServiceAgreement | None:
    """Supersede the current version with one showing the placement as it is now.

    For services that change a placement themselves (e.g. ending a block-bed stay); call it
    inside their transaction with a `ServiceAgreement.Reason`. A placement that never had an
    agreement gets none here: generating one is a decision taken at award or bed fill.
    """
    current = ServiceAgreement.objects.select_for_update().filter(placement=placement, is_current=True).first()
    if current is None:
        return None
    placement = Placement.objects.select_related("commissioner", "care_home__provider", "lot").get(pk=placement.pk)
    now = timezone.now()
    ServiceAgreement.objects.filter(pk=current.pk).update(is_current=False, superseded_at=now)
    agreement = ServiceAgreement.objects.create(
        placement=placement,
        version=current.version + 1,
        reason=reason,
        created_by=actor,
        **_agreement_terms(placement, _latest_fee_date(placement)),
    )
    audit_record(
        actor=actor,
        verb="contracts.agreement.revised",
        target=agreement,
        organisation=placement.commissioner,
        detail={"placement": placement.pk, "version": agreement.version, "reason": reason},
    )
    _notify_agreement(agreement)
    return agreement


@transaction.atomic
def agreement_accept(*, agreement: ServiceAgreement, actor) -> ServiceAgreement:
    """The provider accepts the current version of its agreement; the time and person are kept."""
    require(
        is_provider_user(actor) and actor.organisation_id == agreement.provider_id,
        "Only the provider's people can accept its agreement.",
    )
    agreement = ServiceAgreement.objects.select_for_update().get(pk=agreement.pk)
    if not agreement.is_current:
        raise ConflictError("This version has been replaced; accept the current one.", code="agreement_superseded")
    if agreement.is_accepted:
        raise ConflictError("This agreement has already been accepted.", code="agreement_already_accepted")
    agreement.accepted_at = timezone.now()
    agreement.accepted_by = actor
    agreement.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        actor=actor,
        verb="contracts.agreement.accepted",
        target=agreement,
        organisation=actor.organisation,
        detail={"version": agreement.version},
    )
    return agreement


# Fee uplifts -------------------------------------------------------------------------------


@transaction.atomic
def uplift_create(
    *,
    actor,
    name: str,
    basis: str,
    effective_from: dt.date,
    rules: list[dict],
    basis_note: str = "",
) -> Uplift:
    """Define an uplift. Each rule names a `lot` or a `client_group`, and a `percentage` or a
    `new_weekly_rate`."""
    require(is_commissioner(actor), "Only commissioners define fee uplifts.")
    if basis not in Uplift.Basis.values:
        raise ApplicationError("Choose the basis of the uplift.", fields={"basis": "Choose a basis."})
    not_in_past_check(effective_from, field="effective_from", label="the date the uplift takes effect")
    if not rules:
        raise ApplicationError(
            "Give a percentage or a new weekly rate for at least one lot or client group.",
            code="uplift_without_rules",
            fields={"rules": "Enter at least one rule."},
        )
    uplift = Uplift.objects.create(
        commissioner=actor.organisation,
        name=name,
        basis=basis,
        basis_note=basis_note,
        effective_from=effective_from,
        created_by=actor,
    )
    for rule in rules:
        percentage, rate = rule.get("percentage"), rule.get("new_weekly_rate")
        if (percentage is None) == (rate is None):
            raise ApplicationError("Give either a percentage or a new weekly rate for each rule.", fields={"rules": ""})
        if (percentage is not None and percentage <= 0) or (rate is not None and rate <= 0):
            raise ApplicationError("Uplifts must be more than zero.", fields={"rules": "Enter more than zero."})
        UpliftRule.objects.create(
            uplift=uplift,
            lot=rule.get("lot"),
            client_group=rule.get("client_group", ""),
            percentage=percentage,
            new_weekly_rate=rate,
        )
    audit_record(
        actor=actor,
        verb="contracts.uplift.created",
        target=uplift,
        organisation=actor.organisation,
        detail={"rules": [str(r) for r in uplift.rules.select_related("lot")], "basis": basis},
    )
    return uplift


@dataclass
class UpliftChange:
    placement: Placement
    old: Decimal
    new: Decimal
    council: Decimal
    top_up: Decimal


@dataclass
class BlockRateChange:
    """A block contract's new weekly rate per bed under an uplift, from `effective_from`."""

    contract: BlockContract
    lot: Lot
    effective_from: dt.date
    old: Decimal
    new: Decimal
    basis: str

    @property
    def old_weekly_cost(self) -> Decimal:
        return self.old * self.contract.number_of_beds

    @property
    def new_weekly_cost(self) -> Decimal:
        return self.new * self.contract.number_of_beds


@dataclass
class LotTotals:
    lot: Lot
    count: int = 0
    old_weekly_total: Decimal = Decimal("0.00")
    new_weekly_total: Decimal = Decimal("0.00")
    block_count: int = 0
    block_old_weekly_total: Decimal = Decimal("0.00")
    block_new_weekly_total: Decimal = Decimal("0.00")


@dataclass
class UpliftPreview:
    """Placements: their weekly fees. Block contracts: the weekly cost of all their beds."""

    count: int = 0
    old_weekly_total: Decimal = Decimal("0.00")
    new_weekly_total: Decimal = Decimal("0.00")
    block_count: int = 0
    block_old_weekly_total: Decimal = Decimal("0.00")
    block_new_weekly_total: Decimal = Decimal("0.00")
    lots: list[LotTotals] = field(default_factory=list)


def _uplift_candidates(uplift: Uplift):
    """Placements the uplift applies to: the body's spot placements live on the effective date
    whose fee was agreed before it. A fee agreed on or after that date already reflects the
    new rates; block-bed placements are paid by their block contract's own rate."""
    day = uplift.effective_from
    return (
        Placement.objects.filter(commissioner_id=uplift.commissioner_id, care_home__isnull=False)
        .exclude(source=Placement.Source.BLOCK_BED)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day), start_date__lt=day)
        .annotate(latest_fee_from=Max("fee_periods__effective_from"))
        .filter(Q(latest_fee_from__isnull=True) | Q(latest_fee_from__lt=day))
        .select_related("lot", "care_home")
        .order_by("pk")
    )


def _rule_for(rules: list[UpliftRule], lot: Lot) -> UpliftRule | None:
    by_lot = next((r for r in rules if r.lot_id == lot.pk), None)
    return by_lot or next((r for r in rules if r.client_group == lot.client_group), None)


def _change_for(placement: Placement, rules: list[UpliftRule]) -> UpliftChange | None:
    rule = _rule_for(rules, placement.lot)
    if rule is None:
        return None
    old = placement.weekly_fee
    by_percentage = rule.percentage is not None
    increase = _round(old * rule.percentage / 100) if by_percentage else rule.new_weekly_rate - old
    if increase <= 0:
        return None
    # The council pays the uplift; a third party's top-up is its own agreement and stays as it is.
    return UpliftChange(
        placement,
        old,
        old + increase,
        placement.council_weekly_amount + increase,
        placement.top_up_weekly_amount,
    )


def _uplift_changes(uplift: Uplift, queryset=None) -> Iterator[UpliftChange]:
    rules = list(uplift.rules.all())
    for placement in (queryset if queryset is not None else _uplift_candidates(uplift)).iterator(chunk_size=1000):
        change = _change_for(placement, rules)
        if change is not None:
            yield change


# Block contracts follow their own uplift rules: see `blockbeds.models.UpliftBasis`.


def _anniversary_on_or_after(start: dt.date, day: dt.date) -> dt.date:
    """The first anniversary of `start` on or after `day` (29 February falls on 28 February)."""
    for year in (day.year, day.year + 1):
        try:
            anniversary = start.replace(year=year)
        except ValueError:
            anniversary = dt.date(year, 2, 28)
        if anniversary >= day:
            return anniversary
    raise AssertionError("unreachable: next year's anniversary is after the day")


def _block_candidates(uplift: Uplift):
    """The body's block contracts an uplift may change: running on or after its effective
    date, with a rule other than "as negotiated"."""
    return (
        BlockContract.objects.filter(commissioner_id=uplift.commissioner_id, end_date__gte=uplift.effective_from)
        .exclude(uplift_basis=UpliftBasis.NEGOTIATED)
        .select_related("provider", "care_home")
        .prefetch_related("lots", "rates")
        .order_by("pk")
    )


def _block_change_for(contract: BlockContract, uplift: Uplift, rules: list[UpliftRule]) -> BlockRateChange | None:
    """Fixed annual: the contract's own percentage from its next anniversary on or after the
    uplift's date. Index-linked: an index-linked uplift's percentage for the contract's lot
    (its lowest-numbered lot with a percentage rule), from the uplift's date. A new weekly rate
    rule is for spot fees and does not apply to block rates. A contract whose rate already
    changes on or after that date has had its uplift and is left alone."""
    lots = sorted(contract.lots.all(), key=lambda lot: lot.number)
    if not lots:
        return None
    if contract.uplift_basis == UpliftBasis.FIXED_ANNUAL:
        day = _anniversary_on_or_after(contract.start_date, uplift.effective_from)
        percentage, lot = contract.uplift_percentage, lots[0]
        basis = f"{percentage}% on the anniversary of the contract"
    elif contract.uplift_basis == UpliftBasis.INDEX_LINKED and uplift.basis == Uplift.Basis.INDEX_LINKED:
        day = uplift.effective_from
        matched = [(lot, _rule_for(rules, lot)) for lot in lots]
        lot, rule = next(((lot, r) for lot, r in matched if r is not None and r.percentage is not None), (None, None))
        if rule is None:
            return None
        percentage = rule.percentage
        basis = f"{percentage}% index-linked ({contract.uplift_index})"
    else:
        return None
    if not percentage or not (contract.start_date < day <= contract.end_date):
        return None
    history = contract.rate_history()
    if not history or history[-1].effective_from >= day:
        return None
    old = contract.rate_on(day)
    increase = _round(old * percentage / 100)
    if increase <= 0:
        return None
    return BlockRateChange(contract, lot, day, old, old + increase, basis)


def _block_changes(uplift: Uplift, contracts) -> list[BlockRateChange]:
    rules = list(uplift.rules.all())
    return [c for c in (_block_change_for(contract, uplift, rules) for contract in contracts) if c is not None]


def uplift_preview(*, uplift: Uplift) -> UpliftPreview:
    """How many placements and block contracts the uplift changes, and the weekly cost before
    and after, per lot. A block contract counts under the lot its rule was read from (its
    lowest-numbered lot for a fixed annual uplift), with the cost of all its beds."""
    preview = UpliftPreview()
    lots: dict[int, LotTotals] = {}
    for change in _uplift_changes(uplift):
        lot = change.placement.lot
        totals = lots.setdefault(lot.pk, LotTotals(lot))
        for summary in (preview, totals):
            summary.count += 1
            summary.old_weekly_total += change.old
            summary.new_weekly_total += change.new
    for change in _block_changes(uplift, _block_candidates(uplift)):
        totals = lots.setdefault(change.lot.pk, LotTotals(change.lot))
        for summary in (preview, totals):
            summary.block_count += 1
            summary.block_old_weekly_total += change.old_weekly_cost
            summary.block_new_weekly_total += change.new_weekly_cost
    preview.lots = sorted(lots.values(), key=lambda t: t.lot.number)
    return preview


@transaction.atomic
def uplift_queue(*, uplift: Uplift, actor) -> Uplift:
    """Ask for the uplift to be applied; a Celery task applies it after this commits."""
    from .tasks import uplift_apply_task

    require(is_commissioner(actor) and actor.organisation_id == uplift.commissioner_id)
    claimed = Uplift.objects.filter(pk=uplift.pk, status__in=[Uplift.Status.DRAFT, Uplift.Status.FAILED]).update(
        status=Uplift.Status.QUEUED, queued_by=actor, queued_at=timezone.now(), failure=""
    )
    if not claimed:
        raise ConflictError("This uplift is already being applied or has been applied.", code="uplift_not_draft")
    uplift.refresh_from_db()
    audit_record(actor=actor, verb="contracts.uplift.queued", target=uplift, organisation=uplift.commissioner)
    transaction.on_commit(lambda: uplift_apply_task.delay(uplift.pk))
    return uplift


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def uplift_apply(*, uplift_id: int, batch_size: int = UPLIFT_BATCH_SIZE) -> Uplift:
    """Apply a queued uplift to every placement it covers, in batches, all in one transaction.

    If anything fails (or the worker dies) nothing is applied and the uplift can be queued
    again. Claiming the queued uplift under a row lock makes a second run, or a second worker,
    find it applied and change nothing; the unique (uplift, placement) fee period backs this up.
    """
    try:
        with transaction.atomic():
            uplift = Uplift.objects.select_for_update().filter(pk=uplift_id, status=Uplift.Status.QUEUED).first()
            if uplift is None:
                return Uplift.objects.get(pk=uplift_id)
            _uplift_apply_locked(uplift, batch_size)
            return uplift
    except DatabaseError as exc:
        Uplift.objects.filter(pk=uplift_id, status=Uplift.Status.QUEUED).update(
            status=Uplift.Status.FAILED, failure=str(exc)[:2000]
        )
        raise


def _uplift_apply_locked(uplift: Uplift, batch_size: int) -> None:
    actor = uplift.queued_by
    ids = list(_uplift_candidates(uplift).values_list("pk", flat=True))
    rules = list(uplift.rules.all())
    per_provider: dict[int, int] = defaultdict(int)
    count = 0
    for batch in _batches(ids, batch_size):
        locked = (
            Placement.objects.select_for_update(of=("self",))
            .filter(pk__in=batch)
            .select_related("lot", "care_home__provider", "commissioner")
            .order_by("pk")
        )
        changes = [c for c in (_change_for(p, rules) for p in locked) if c is not None]
        if not changes:
            continue
        _apply_changes(uplift, changes, actor)
        count += len(changes)
        for change in changes:
            per_provider[change.placement.care_home.provider_id] += 1
    block_per_provider: dict[int, int] = defaultdict(int)
    block_ids = list(_block_candidates(uplift).values_list("pk", flat=True))
    block_count = 0
    for batch in _batches(block_ids, batch_size):
        locked = _block_candidates(uplift).select_for_update(of=("self",)).filter(pk__in=batch)
        changes = _block_changes(uplift, locked)
        _apply_block_changes(uplift, changes, actor)
        block_count += len(changes)
        for change in changes:
            block_per_provider[change.contract.provider_id] += 1
    uplift.status = Uplift.Status.APPLIED
    uplift.applied_at = timezone.now()
    uplift.placements_uplifted = count
    uplift.block_contracts_uplifted = block_count
    uplift.save(update_fields=["status", "applied_at", "placements_uplifted", "block_contracts_uplifted"])
    audit_record(
        actor=actor,
        verb="contracts.uplift.applied",
        target=uplift,
        organisation=uplift.commissioner,
        detail={
            "placements": count,
            "block_contracts": block_count,
            "effective_from": str(uplift.effective_from),
        },
    )
    _notify_uplift(uplift, per_provider, block_per_provider)


def _apply_block_changes(uplift: Uplift, changes: list[BlockRateChange], actor) -> None:
    """New rate rows (the unique (uplift, contract) row backs up the claim on the uplift) and
    an audit event per contract."""
    BlockContractRate.objects.bulk_create(
        BlockContractRate(
            contract=c.contract,
            effective_from=c.effective_from,
            weekly_rate=c.new,
            reason=BlockContractRate.Reason.UPLIFT,
            basis=c.basis,
            uplift=uplift,
            created_by=actor,
        )
        for c in changes
    )
    for c in changes:
        block_placement_fees_follow(
            contract=c.contract, effective_from=c.effective_from, weekly_rate=c.new, actor=actor, uplift=uplift
        )
    audit_record_many(
        actor=actor,
        organisation=uplift.commissioner,
        verb="blockbeds.contract.rate_uplifted",
        events=(
            (
                c.contract,
                {
                    "uplift": uplift.pk,
                    "effective_from": str(c.effective_from),
                    "before": str(c.old),
                    "after": str(c.new),
                    "basis": c.basis,
                },
            )
            for c in changes
        ),
    )


def block_placement_fees_follow(
    *, contract: BlockContract, effective_from: dt.date, weekly_rate: Decimal, actor, uplift: Uplift | None = None
) -> list[Placement]:
    """A block contract's new rate reaches the placements in its beds: each placement that
    started before the date and is still in its bed then gets a fee period from that date and
    a new agreement version. Payments do not change (block beds are paid by the bed); the fee
    history is what the dashboards read. Runs inside the caller's transaction."""
    in_bed = (
        Placement.objects.filter(block_occupancy__bed__contract=contract, start_date__lt=effective_from)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=effective_from))
        .filter(Q(block_occupancy__end_date__isnull=True) | Q(block_occupancy__end_date__gte=effective_from))
        .annotate(latest_fee_from=Max("fee_periods__effective_from"))
        .filter(Q(latest_fee_from__isnull=True) | Q(latest_fee_from__lt=effective_from))
    )
    ids = list(in_bed.values_list("pk", flat=True))
    placements = list(
        Placement.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("lot", "care_home__provider", "commissioner")
        .order_by("pk")
    )
    if not placements:
        return []
    changes = [
        UpliftChange(p, p.weekly_fee, weekly_rate + p.top_up_weekly_amount, weekly_rate, p.top_up_weekly_amount)
        for p in placements
    ]
    _fee_changes_record(
        changes,
        actor=actor,
        organisation=contract.commissioner,
        effective_from=effective_from,
        uplift=uplift,
        note=f"Block contract {contract.reference} rate from {effective_from:%d/%m/%Y}",
        detail={
            "uplift": uplift.pk if uplift else None,
            "block_contract": contract.pk,
            "effective_from": str(effective_from),
        },
    )
    return placements


def _apply_changes(uplift: Uplift, changes: list[UpliftChange], actor) -> None:
    _fee_changes_record(
        changes,
        actor=actor,
        organisation=uplift.commissioner,
        effective_from=uplift.effective_from,
        uplift=uplift,
        detail={"uplift": uplift.pk},
    )


def _fee_changes_record(
    changes: list[UpliftChange],
    *,
    actor,
    organisation,
    effective_from: dt.date,
    uplift: Uplift | None,
    detail: dict,
    note: str = "",
) -> None:
    """Each change as a fee period from `effective_from` (after the agreed fee's own period, kept
    once), the placement's fee, a new agreement version and an audit event with `detail`."""
    placements = [c.placement for c in changes]
    with_history = set(
        FeePeriod.objects.filter(placement__in=placements).values_list("placement_id", flat=True).distinct()
    )
    FeePeriod.objects.bulk_create(_initial_period(p, actor) for p in placements if p.pk not in with_history)
    FeePeriod.objects.bulk_create(
        FeePeriod(
            placement=c.placement,
            effective_from=effective_from,
            weekly_fee=c.new,
            council_weekly_amount=c.council,
            top_up_weekly_amount=c.top_up,
            reason=FeePeriod.Reason.UPLIFT if uplift else FeePeriod.Reason.FEE_CHANGE,
            uplift=uplift,
            note=note,
            created_by=actor,
        )
        for c in changes
    )
    for c in changes:
        c.placement.weekly_fee, c.placement.council_weekly_amount = c.new, c.council
    Placement.objects.bulk_update(placements, ["weekly_fee", "council_weekly_amount"])
    # The council's share takes the change; placements whose shares were never recorded follow their fees.
    with_shares = set(
        FundingShare.objects.filter(placement__in=placements).values_list("placement_id", flat=True).distinct()
    )
    for c in changes:
        if c.placement.pk in with_shares:
            _shares_follow_fee(
                c.placement,
                from_day=effective_from,
                actor=actor,
                reason=FundingShare.Reason.UPLIFT if uplift else FundingShare.Reason.FEE_CHANGE,
                note=note,
            )
    _agreements_revise_from(
        placements,
        actor,
        effective_from=effective_from,
        reason=ServiceAgreement.Reason.UPLIFT if uplift else ServiceAgreement.Reason.FEE_CHANGE,
    )
    audit_record_many(
        actor=actor,
        organisation=organisation,
        verb="contracts.fee.uplifted" if uplift else "contracts.fee.changed",
        events=((c.placement, {**detail, "before": str(c.old), "after": str(c.new)}) for c in changes),
    )


def _agreements_revise_from(placements: list[Placement], actor, *, effective_from: dt.date, reason: str) -> None:
    """A new version of each placement's current agreement, with its fee from `effective_from`."""
    current = list(ServiceAgreement.objects.select_for_update().filter(placement__in=placements, is_current=True))
    if not current:
        return
    ServiceAgreement.objects.filter(pk__in=[a.pk for a in current]).update(
        is_current=False, superseded_at=timezone.now()
    )
    by_id = {p.pk: p for p in placements}
    ServiceAgreement.objects.bulk_create(
        ServiceAgreement(
            placement=by_id[a.placement_id],
            version=a.version + 1,
            reason=reason,
            created_by=actor,
            **_agreement_terms(by_id[a.placement_id], effective_from),
        )
        for a in current
    )


def _notify_uplift(uplift: Uplift, per_provider: dict[int, int], block_per_provider: dict[int, int]) -> None:
    for provider in Organisation.objects.filter(pk__in={*per_provider, *block_per_provider}):
        notify_organisation(
            organisation=provider,
            roles=[Role.PROVIDER],
            verb="contracts.uplift.applied",
            subject=f"Fee uplift from {uplift.effective_from:%d %B %Y}: {uplift.commissioner.name}",
            template="contracts/emails/uplift_applied.txt",
            context={
                "uplift": uplift,
                "placements": per_provider.get(provider.pk, 0),
                "block_contracts": block_per_provider.get(provider.pk, 0),
            },
            dedupe_key=f"contracts.uplift.{uplift.pk}.applied",
            link=reverse("contracts:agreements" if per_provider.get(provider.pk) else "blockbeds:contract_list"),
        )


# Who pays what -----------------------------------------------------------------------------

ShareTransform = Callable[[tuple[Share, ...], dt.date], tuple[Share, ...]]
PAYERS_NAMED = (PayerType.CONTRIBUTION, PayerType.TOP_UP)


def _fees_by_day(placement: Placement) -> list[Fee]:
    return fee_history(placement=placement)


def _fee_at(fees: list[Fee], day: dt.date) -> Decimal:
    current = fees[0]
    for fee in fees:
        if fee.effective_from > day:
            break
        current = fee
    return current.weekly_fee


def _money_text(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


def funding_shares_check(*, placement: Placement) -> None:
    """The rule: on every day of the placement its shares in force add up to its weekly fee.

    Every write of shares or fees ends by asking this; a deferred database trigger holds the same
    rule at commit for any write that did not."""
    placement = Placement.objects.select_related("commissioner").get(pk=placement.pk)
    sets = share_sets(placement=placement)
    fees = _fees_by_day(placement)
    days = {placement.start_date, *(s.effective_from for s in sets), *(f.effective_from for f in fees)}
    days |= {s.effective_to + dt.timedelta(days=1) for s in sets if s.effective_to}
    for day in sorted(days):
        if day < placement.start_date or (placement.end_date and day > placement.end_date):
            continue
        in_force = next((s for s in sets if s.covers(day)), None)
        total = in_force.total if in_force else Decimal("0.00")
        fee = _fee_at(fees, day)
        if total != fee:
            message = (
                f"On {day:%-d %B %Y} the shares add up to {_money_text(total)} a week, "
                f"but the weekly fee is {_money_text(fee)}."
            )
            raise ApplicationError(message, code="shares_do_not_add_up", fields={"shares": message})


def _share_clean(placement: Placement, share: Share) -> Share:
    """A share as given, checked, with its payer named (the council share is the body's own)."""
    if share.payer_type not in PayerType.values:
        raise ApplicationError("Choose who pays each share.", fields={"shares": "Choose a payer type."})
    if share.route not in Route.values:
        raise ApplicationError("Choose gross or net for each share.", fields={"shares": "Choose a route."})
    amount = Decimal(share.weekly_amount)
    if amount < 0 or amount != amount.quantize(PENNY):
        raise ApplicationError(
            "Each share is a weekly amount in pounds and pence, 0 or more.",
            fields={"shares": "Enter amounts like 120.50."},
        )
    organisation_id, name = share.payer_organisation_id, share.payer_name.strip()
    if share.payer_type == PayerType.COUNCIL:
        organisation_id, name = placement.commissioner_id, ""
    elif share.payer_type in PAYERS_NAMED and not name:
        label = PayerType(share.payer_type).label.lower()
        raise ApplicationError(f"Name who pays the {label}.", fields={"shares": f"Name who pays the {label}."})
    elif share.payer_type not in PAYERS_NAMED and not (organisation_id or name):
        raise ApplicationError("Name the NHS body that pays each NHS share.", fields={"shares": "Name the NHS body."})
    organisation = Organisation.objects.filter(pk=organisation_id).first() if organisation_id else None
    if organisation_id and organisation is None:
        raise ApplicationError("No such payer organisation.", fields={"shares": "Choose a known organisation."})
    if organisation and share.payer_type in NHS_PAYER_TYPES and organisation.kind != Organisation.Kind.NHS:
        raise ApplicationError("An NHS share is paid by an NHS body.", fields={"shares": "Choose an NHS body."})
    return Share(
        payer_type=share.payer_type,
        weekly_amount=amount,
        route=share.route,
        payer_organisation_id=organisation_id,
        payer_name=name,
        payer=name or organisation.name,
    )


def _shares_merge(shares) -> tuple[Share, ...]:
    """One share per payer and route, zero shares dropped except the council's, in display order."""
    merged: dict[tuple, Share] = {}
    for share in shares:
        if share.key in merged:
            share = share.with_amount(merged[share.key].weekly_amount + share.weekly_amount)
        merged[share.key] = share
    kept = [s for s in merged.values() if s.weekly_amount or s.payer_type == PayerType.COUNCIL]
    return tuple(sorted(kept, key=lambda s: (SHARE_ORDER[s.payer_type], s.payer, s.route)))


def _council_takes(placement: Placement, shares: tuple[Share, ...], amount: Decimal) -> tuple[Share, ...]:
    """The council's share changed by `amount` (added, or taken when negative)."""
    council = next((s for s in shares if s.payer_type == PayerType.COUNCIL), None)
    if council is None:
        council = default_shares(placement, Decimal("0.00"), Decimal("0.00"))[0]
        shares = (*shares, council)
    new = council.weekly_amount + amount
    if new < 0:
        message = (
            f"The council's share would be {_money_text(new)} a week: the other shares add up to more than the fee."
        )
        raise ApplicationError(message, code="council_share_negative", fields={"shares": message})
    return _shares_merge(s.with_amount(new) if s is council else s for s in shares)


def _shares_rewrite(
    placement: Placement, *, from_day: dt.date, transform: ShareTransform, reason: str, note: str, actor
) -> list[ShareSet]:
    """The one writer of shares: every set in force on or after `from_day` (split on that day and
    on every fee change after it) is replaced by what `transform(shares, set_start)` makes of it;
    the rows replaced are kept, marked superseded. Ends with the invariant check. Runs inside the
    caller's transaction with the placement row locked."""
    placement = (
        Placement.objects.select_related("commissioner")
        .prefetch_related(funding_shares_prefetch())
        .get(pk=placement.pk)
    )
    recorded = any(True for _ in placement.funding_shares.all())
    sets = share_sets(placement=placement)
    fees = _fees_by_day(placement)
    starts = sorted(
        {from_day}
        | {s.effective_from for s in sets if s.effective_from > from_day}
        | {f.effective_from for f in fees if f.effective_from > from_day}
    )
    new_sets: list[ShareSet] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] - dt.timedelta(days=1) if index + 1 < len(starts) else None
        base = next((s for s in sets if s.covers(start)), None)
        shares = _shares_merge(transform(base.shares if base else (), start))
        if new_sets and new_sets[-1].shares == shares:
            new_sets[-1] = ShareSet(new_sets[-1].effective_from, end, shares)
        else:
            new_sets.append(ShareSet(start, end, shares))
    day_before = from_day - dt.timedelta(days=1)
    stamp = {"created_by": actor if getattr(actor, "is_authenticated", False) else None}
    rows: list[FundingShare] = []
    if recorded:
        replaced = list(
            FundingShare.objects.select_for_update()
            .filter(placement=placement, superseded_at__isnull=True)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=from_day))
        )
        FundingShare.objects.filter(pk__in=[r.pk for r in replaced]).update(superseded_at=timezone.now())
        # The part of a replaced set before the change stays in force as it was.
        for row in replaced:
            if row.effective_from < from_day:
                row.pk, row.effective_to, row.superseded_at = None, day_before, None
                rows.append(row)
    else:
        # Shares never recorded: the funding so far is written down as it was before the change.
        for share_set in sets:
            if share_set.effective_from < from_day:
                end = day_before if share_set.effective_to is None else min(share_set.effective_to, day_before)
                rows += _share_rows(placement, share_set, end, FundingShare.Reason.INITIAL, "", stamp)
    for share_set in new_sets:
        rows += _share_rows(placement, share_set, share_set.effective_to, reason, note, stamp)
    FundingShare.objects.bulk_create(rows)
    funding_shares_check(placement=placement)
    return new_sets


def _share_rows(placement, share_set: ShareSet, end, reason: str, note: str, stamp: dict) -> list[FundingShare]:
    return [
        FundingShare(
            placement=placement,
            payer_type=share.payer_type,
            payer_organisation_id=share.payer_organisation_id,
            payer_name=share.payer_name,
            route=share.route,
            weekly_amount=share.weekly_amount,
            effective_from=share_set.effective_from,
            effective_to=end,
            reason=reason,
            note=note,
            **stamp,
        )
        for share in share_set.shares
    ]


def _shares_text(shares) -> list[dict]:
    return [
        {"payer_type": s.payer_type, "payer": s.payer, "route": s.route, "weekly_amount": str(s.weekly_amount)}
        for s in shares
    ]


def _shares_announce(placement: Placement, *, actor, verb: str, effective_from: dt.date, before, after, reason: str):
    audit_record(
        actor=actor,
        verb=verb,
        target=placement,
        organisation=placement.commissioner,
        reason=reason,
        detail={"effective_from": str(effective_from), "before": _shares_text(before), "after": _shares_text(after)},
    )
    domain_event_send("placement.funding_changed", placement=placement, effective_from=effective_from, shares=after)


@transaction.atomic
def funding_shares_change(
    *, placement: Placement, effective_from: dt.date, shares: list[Share], reason: str, by
) -> list[ShareSet]:
    """New shares of the fee from a date, until the next change already recorded: they must add
    up to the fee on each of those days. The agreement gets a new version; audited; announced."""
    require_council_member_or_system(by, placement.commissioner_id)
    placement = Placement.objects.select_for_update().select_related("commissioner").get(pk=placement.pk)
    if not reason.strip():
        raise ApplicationError("Say why who pays is changing.", fields={"reason": "Enter the reason."})
    if effective_from < placement.start_date or (placement.end_date and effective_from > placement.end_date):
        message = "The change must take effect while the person is placed."
        raise ApplicationError(message, code="outside_placement", fields={"effective_from": message})
    if not shares:
        raise ApplicationError("Give at least one share.", fields={"shares": "Give at least one share."})
    cleaned = _shares_merge(_share_clean(placement, share) for share in shares)
    before = shares_on(placement, effective_from)
    sets = _shares_rewrite(
        placement,
        from_day=effective_from,
        transform=lambda current, start: cleaned if start == effective_from else current,
        reason=FundingShare.Reason.CHANGE,
        note=reason.strip(),
        actor=by,
    )
    agreement_revise(placement=placement, actor=by, reason=ServiceAgreement.Reason.FUNDING_CHANGE)
    _shares_announce(
        placement,
        actor=by,
        verb="contracts.funding.changed",
        effective_from=effective_from,
        before=before,
        after=sets[0].shares,
        reason=reason.strip(),
    )
    return sets


def _shares_follow_fee(
    placement: Placement, *, from_day: dt.date, actor, reason: str, note: str, top_up: Decimal | None = None
) -> None:
    """After a fee change from `from_day` (already in the fee history): the council's share takes
    the difference on each day, and the top-up becomes `top_up` when one is given."""
    fees = _fees_by_day(placement)

    def follow(shares: tuple[Share, ...], start: dt.date) -> tuple[Share, ...]:
        if top_up is not None:
            others = [s for s in shares if s.payer_type != PayerType.TOP_UP]
            current = next((s for s in shares if s.payer_type == PayerType.TOP_UP), None)
            if top_up:
                payer = current.payer if current else (placement.top_up_payer or "Top-up payer (not recorded)")
                others.append(
                    current.with_amount(top_up)
                    if current
                    else Share(PayerType.TOP_UP, top_up, Route.GROSS, payer_name=payer, payer=payer)
                )
            shares = tuple(others)
        total = sum((s.weekly_amount for s in shares), Decimal("0.00"))
        return _council_takes(placement, shares, _fee_at(fees, start) - total)

    _shares_rewrite(placement, from_day=from_day, transform=follow, reason=reason, note=note, actor=actor)


def funding_shares_start(*, placement: Placement, actor) -> None:
    """Record a new placement's shares as agreed (the council, and any top-up), once."""
    if placement.funding_shares.exists():
        return
    _shares_rewrite(
        placement,
        from_day=placement.start_date,
        transform=lambda shares, start: shares,
        reason=FundingShare.Reason.INITIAL,
        note="",
        actor=actor,
    )


@transaction.atomic
def top_up_stop(*, placement: Placement, on: dt.date, by, reason: str) -> list[ShareSet]:
    """The top-up payer stops paying: from `on` the council's share covers the top-up (the
    council stays liable for the whole fee). One action; audited; a new agreement version."""
    require_council_member_or_system(by, placement.commissioner_id)
    placement = Placement.objects.select_for_update().select_related("commissioner").get(pk=placement.pk)
    if not reason.strip():
        raise ApplicationError("Say why the top-up stops.", fields={"reason": "Enter the reason."})
    before = shares_on(placement, on)
    if not any(s.payer_type == PayerType.TOP_UP for s in before):
        message = f"There is no top-up on {on:%-d %B %Y}."
        raise ApplicationError(message, code="no_top_up", fields={"on": message})

    def council_covers(shares: tuple[Share, ...], start: dt.date) -> tuple[Share, ...]:
        stopped = sum((s.weekly_amount for s in shares if s.payer_type == PayerType.TOP_UP), Decimal("0.00"))
        return _council_takes(placement, tuple(s for s in shares if s.payer_type != PayerType.TOP_UP), stopped)

    sets = _shares_rewrite(
        placement,
        from_day=on,
        transform=council_covers,
        reason=FundingShare.Reason.TOP_UP_STOPPED,
        note=reason.strip(),
        actor=by,
    )
    TopUpAgreement.objects.filter(placement=placement, stopped_on__isnull=True).update(
        stopped_on=on, stopped_by=by if getattr(by, "is_authenticated", False) else None, stop_reason=reason.strip()
    )
    placement.top_up_weekly_amount = Decimal("0.00")
    placement.council_weekly_amount = placement.weekly_fee
    placement.save(update_fields=["top_up_weekly_amount", "council_weekly_amount"])
    agreement_revise(placement=placement, actor=by, reason=ServiceAgreement.Reason.FUNDING_CHANGE)
    _shares_announce(
        placement,
        actor=by,
        verb="contracts.top_up.stopped",
        effective_from=on,
        before=before,
        after=sets[0].shares,
        reason=reason.strip(),
    )
    return sets


@transaction.atomic
def funding_nhs_interim_end(*, placement: Placement, on: dt.date, by, note: str = "") -> list[ShareSet] | None:
    """A discharge-to-assess stay becomes long term in the same home: from `on` the council pays
    what the NHS paid during the assessment (joint funding or CHC); FNC stays with the NHS."""
    placement = Placement.objects.select_for_update().select_related("commissioner").get(pk=placement.pk)
    before = shares_on(placement, on)
    if not any(s.payer_type in (PayerType.NHS_JOINT, PayerType.CHC) for s in before):
        return None

    def council_takes_over(shares: tuple[Share, ...], start: dt.date) -> tuple[Share, ...]:
        moving = (PayerType.NHS_JOINT, PayerType.CHC)
        amount = sum((s.weekly_amount for s in shares if s.payer_type in moving), Decimal("0.00"))
        return _council_takes(placement, tuple(s for s in shares if s.payer_type not in moving), amount)

    sets = _shares_rewrite(
        placement,
        from_day=on,
        transform=council_takes_over,
        reason=FundingShare.Reason.ASSESSMENT_OUTCOME,
        note=note or "Long-term placement in the same home after the assessment",
        actor=by,
    )
    agreement_revise(placement=placement, actor=by, reason=ServiceAgreement.Reason.FUNDING_CHANGE)
    _shares_announce(
        placement,
        actor=by,
        verb="contracts.funding.changed",
        effective_from=on,
        before=before,
        after=sets[0].shares,
        reason=note or "Long-term placement after the assessment",
    )
    return sets


# The national FNC rate ---------------------------------------------------------------------


@transaction.atomic
def fnc_rate_record(*, effective_from: dt.date, weekly_rate: Decimal, by, note: str = "") -> FncRate:
    """Enter the national FNC rate from a date (commissioners or back office, each April)."""
    require(by is None or is_commissioner(by) or getattr(by, "is_staff", False), "Only commissioners enter FNC rates.")
    if weekly_rate is None or weekly_rate <= 0:
        raise ApplicationError("Enter the weekly rate.", fields={"weekly_rate": "Enter more than zero."})
    if FncRate.objects.filter(effective_from=effective_from).exists():
        message = "There is already a rate from that date."
        raise ConflictError(message, code="fnc_rate_exists", fields={"effective_from": message})
    rate = FncRate.objects.create(
        effective_from=effective_from,
        weekly_rate=weekly_rate,
        note=note,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    audit_record(
        actor=by,
        verb="contracts.fnc_rate.recorded",
        target=rate,
        detail={"effective_from": str(effective_from), "weekly_rate": str(weekly_rate)},
    )
    return rate


def fnc_placements(rate: FncRate) -> QuerySet[Placement]:
    """Nursing placements with an FNC share in force on or after the rate's date."""
    day = rate.effective_from
    return (
        Placement.objects.live()
        .filter(lot__setting=Setting.NURSING)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .filter(
            Q(funding_shares__payer_type=PayerType.FNC, funding_shares__superseded_at__isnull=True)
            & (Q(funding_shares__effective_to__isnull=True) | Q(funding_shares__effective_to__gte=day))
        )
        .distinct()
        .order_by("pk")
    )


@transaction.atomic
def fnc_rate_follow(*, placement: Placement, rate: FncRate, actor=None) -> bool:
    """A nursing placement's FNC share follows the national rate from its date: the fee rises (or
    falls) by the difference, which the NHS pays; the council's share is unchanged."""
    placement = Placement.objects.select_for_update().select_related("commissioner").get(pk=placement.pk)
    day = max(rate.effective_from, placement.start_date)
    current = next((s for s in shares_on(placement, day) if s.payer_type == PayerType.FNC), None)
    if current is None or current.weekly_amount == rate.weekly_rate:
        return False
    delta = rate.weekly_rate - current.weekly_amount
    fee_history_start(placement=placement, actor=actor)
    fees = _fees_by_day(placement)
    at_day = FeePeriod.objects.filter(placement=placement, effective_from=day).first()
    if at_day is None:
        fee = fee_on(placement=placement, on=day)
        FeePeriod.objects.create(
            placement=placement,
            effective_from=day,
            weekly_fee=fee.weekly_fee + delta,
            council_weekly_amount=fee.council_weekly_amount + delta,
            top_up_weekly_amount=fee.top_up_weekly_amount,
            reason=FeePeriod.Reason.FNC_RATE,
            note=str(rate),
            created_by=actor,
        )
        later = FeePeriod.objects.filter(placement=placement, effective_from__gt=day)
    else:
        later = FeePeriod.objects.filter(placement=placement, effective_from__gte=day)
    later.update(weekly_fee=F("weekly_fee") + delta, council_weekly_amount=F("council_weekly_amount") + delta)
    del fees
    placement.weekly_fee += delta
    placement.council_weekly_amount += delta
    placement.save(update_fields=["weekly_fee", "council_weekly_amount"])
    before = shares_on(placement, day)

    def fnc_follows(shares: tuple[Share, ...], start: dt.date) -> tuple[Share, ...]:
        return tuple(s.with_amount(s.weekly_amount + delta) if s.payer_type == PayerType.FNC else s for s in shares)

    sets = _shares_rewrite(
        placement,
        from_day=day,
        transform=fnc_follows,
        reason=FundingShare.Reason.FNC_RATE,
        note=str(rate),
        actor=actor,
    )
    agreement_revise(placement=placement, actor=actor, reason=ServiceAgreement.Reason.FUNDING_CHANGE)
    _shares_announce(
        placement,
        actor=actor,
        verb="contracts.funding.fnc_followed",
        effective_from=day,
        before=before,
        after=sets[0].shares,
        reason=str(rate),
    )
    return True


def fnc_rate_apply(*, rate: FncRate, actor=None, progress: Callable[[int, int], None] | None = None) -> int:
    """Every nursing placement's FNC share follows the rate; each placement in its own transaction,
    so a rerun after a failure carries on and changes nothing twice."""
    ids = list(fnc_placements(rate).values_list("pk", flat=True))
    changed = 0
    for done, pk in enumerate(ids, start=1):
        if fnc_rate_follow(placement=Placement(pk=pk), rate=rate, actor=actor):
            changed += 1
        if progress:
            progress(done, len(ids))
    FncRate.objects.filter(pk=rate.pk).update(
        applied_at=timezone.now(), placements_changed=F("placements_changed") + changed
    )
    audit_record(actor=actor, verb="contracts.fnc_rate.applied", target=rate, detail={"placements": changed})
    return changed


FNC_PROGRESS_EVERY = 100


@transaction.atomic
def fnc_rate_queue(*, rate: FncRate, by) -> FncRate:
    """Ask for every nursing placement's FNC share to follow the rate; a Celery task does it after
    this commits, auditing its progress (`fnc_rate_apply_queued`)."""
    from .tasks import fnc_rate_apply_task

    require(by is None or is_commissioner(by) or getattr(by, "is_staff", False), "Only commissioners apply FNC rates.")
    audit_record(actor=by, verb="contracts.fnc_rate.queued", target=rate, detail={"weekly_rate": str(rate.weekly_rate)})
    transaction.on_commit(lambda: fnc_rate_apply_task.delay(rate.pk))
    return rate


def fnc_rate_apply_queued(*, rate_id: int) -> int:
    """The queued work of `fnc_rate_queue`: the placements follow the rate as the system (each in its
    own transaction, so a rerun carries on), with an audited progress event every hundred placements."""
    rate = FncRate.objects.get(pk=rate_id)

    def progress(done: int, total: int) -> None:
        if done % FNC_PROGRESS_EVERY == 0 and done < total:
            audit_record(
                actor=None, verb="contracts.fnc_rate.progress", target=rate, detail={"done": done, "total": total}
            )

    return fnc_rate_apply(rate=rate, progress=progress)


# Payment rules for absences and deaths ---------------------------------------------------


@transaction.atomic
def payment_rules_update(
    *, by, absence_full_weeks: int, absence_reduced_percent: Decimal, death_paid_days: int
) -> PaymentRules:
    """A commissioner sets the body's payment rules for absences and deaths; the next schedules
    produced follow them. Audited with the rules before and after."""
    require(is_commissioner(by), "Only commissioners change payment rules.")
    errors = {}
    if absence_full_weeks is None or not 0 <= absence_full_weeks <= 52:
        errors["absence_full_weeks"] = "Enter a number of weeks from 0 to 52."
    if absence_reduced_percent is None or not 0 <= absence_reduced_percent <= 100:
        errors["absence_reduced_percent"] = "Enter a percentage from 0 to 100."
    if death_paid_days is None or not 0 <= death_paid_days <= 28:
        errors["death_paid_days"] = "Enter a number of days from 0 to 28."
    if errors:
        raise ApplicationError("The payment rules are not valid: " + " ".join(errors.values()), fields=errors)
    rules = PaymentRules.objects.select_for_update().filter(commissioner_id=by.organisation_id).first()
    rules = rules or PaymentRules(commissioner_id=by.organisation_id)
    before = str(rules)
    rules.absence_full_weeks = absence_full_weeks
    rules.absence_reduced_percent = absence_reduced_percent
    rules.death_paid_days = death_paid_days
    rules.updated_by = by
    rules.save()
    audit_record(
        actor=by,
        verb="contracts.payment_rules.updated",
        target=rules,
        organisation=by.organisation,
        detail={"before": before, "after": str(rules)},
    )
    return rules


# Top-ups with consent ----------------------------------------------------------------------


@transaction.atomic
def top_up_agreement_record(
    *,
    request: PlacementRequest,
    by,
    payer_name: str,
    relationship: str,
    weekly_amount: Decimal,
    starts_on: dt.date,
    signed_via: str,
    signed_on: dt.date,
    affordability_confirmed: bool,
    affordability_note: str = "",
) -> TopUpAgreement:
    """The broker records a third party's written agreement to pay a top-up, and confirms the
    payer can afford it for the length of the stay. An award with a top-up needs one."""
    require_member_of(by, request.commissioner_id, not_found="No such placement request.")
    require(is_broker(by), "Only brokers record top-up agreements.")
    errors = {}
    if not payer_name.strip():
        errors["payer_name"] = "Enter who will pay the top-up."
    if not relationship.strip():
        errors["relationship"] = "Enter how the payer is related to the person."
    if weekly_amount is None or weekly_amount <= 0:
        errors["weekly_amount"] = "Enter the weekly amount agreed, more than zero."
    if signed_via not in TopUpAgreement.SignedVia.values:
        errors["signed_via"] = "Say how the agreement was signed."
    elif (
        signed_via == TopUpAgreement.SignedVia.CHOICE_LINK
        and not ShortlistLink.objects.filter(
            tender__request=request, chosen_bid__isnull=False, top_up_consent=True
        ).exists()
    ):
        errors["signed_via"] = "Nobody has agreed to a top-up through this person's choice link."
    if signed_on and signed_on > timezone.localdate():
        errors["signed_on"] = "The agreement cannot be signed in the future."
    if not affordability_confirmed:
        errors["affordability_confirmed"] = (
            "Confirm you have checked the payer can afford the top-up for the length of the stay."
        )
    if errors:
        raise ApplicationError(
            "The top-up agreement is not complete: " + " ".join(errors.values()),
            code="top_up_agreement_invalid",
            fields=errors,
        )
    TopUpAgreement.objects.filter(request=request, placement__isnull=True, stopped_on__isnull=True).update(
        stopped_on=timezone.localdate(), stopped_by=by, stop_reason="Replaced by a new agreement"
    )
    agreement = TopUpAgreement.objects.create(
        request=request,
        payer_name=payer_name.strip(),
        relationship=relationship.strip(),
        weekly_amount=weekly_amount,
        starts_on=starts_on,
        signed_via=signed_via,
        signed_on=signed_on,
        affordability_confirmed=True,
        affordability_note=affordability_note.strip(),
        recorded_by=by,
    )
    audit_record(
        actor=by,
        verb="contracts.top_up_agreement.recorded",
        target=request,
        organisation=request.commissioner,
        detail={
            "agreement": agreement.pk,
            "weekly_amount": str(weekly_amount),
            "relationship": agreement.relationship,
            "signed_via": signed_via,
        },
    )
    return agreement


def top_up_agreement_for(request: PlacementRequest) -> TopUpAgreement | None:
    """The request's top-up agreement waiting for its award."""
    return (
        TopUpAgreement.objects.filter(request=request, placement__isnull=True, stopped_on__isnull=True)
        .order_by("-recorded_at", "-pk")
        .first()
    )


def top_up_award_check(*, tender, bid, reason: str, top_up_payer: str) -> AwardTerms:
    """An award whose fee is above the council's rate needs the top-up agreement recorded, for the
    amount the award leaves to the third party, with affordability confirmed."""
    split = fee_split(weekly_fee=bid.weekly_fee, max_weekly_rate=tender.max_weekly_rate)
    if not split.top_up:
        return AwardTerms(reason, top_up_payer)
    agreement = top_up_agreement_require(request=tender.request, top_up=split.top_up, field="top_up_payer")
    return AwardTerms(reason, top_up_payer or agreement.payer_name, top_up_consent=True)


def top_up_agreement_require(*, request: PlacementRequest, top_up: Decimal, field: str) -> TopUpAgreement:
    """A placement with a top-up (an award, or a spot contract by choice) needs the request's recorded
    top-up agreement, affordability confirmed, for exactly that weekly amount; refused on `field`."""
    agreement = top_up_agreement_for(request)
    if agreement is None:
        message = (
            f"This placement needs a top-up of £{top_up:,.2f} a week: record the payer's signed top-up "
            "agreement and confirm it is affordable first."
        )
        raise ApplicationError(message, code="top_up_agreement_required", fields={field: message})
    if agreement.weekly_amount != top_up:
        message = (
            f"The top-up agreement is for £{agreement.weekly_amount:,.2f} a week but this placement needs "
            f"£{top_up:,.2f}: record an agreement for that amount."
        )
        raise ApplicationError(message, code="top_up_agreement_amount", fields={field: message})
    return agreement


def top_up_agreement_attach(*, placement: Placement) -> TopUpAgreement | None:
    """At the award's placement: the request's waiting agreement becomes the placement's."""
    if placement.request_id is None or not placement.top_up_weekly_amount:
        return None
    agreement = top_up_agreement_for(placement.request)
    if agreement is not None:
        agreement.placement = placement
        agreement.save(update_fields=["placement"])
    return agreement


# Absences and deaths -----------------------------------------------------------------------


@transaction.atomic
def absence_record(
    *,
    placement: Placement,
    starts_on: dt.date,
    by,
    ends_on: dt.date | None = None,
    kind: str = Absence.Kind.HOSPITAL,
    note: str = "",
) -> Absence:
    """A temporary absence (such as a hospital admission): the body's payment rules apply to its days."""
    require_council_member_or_system(by, placement.commissioner_id)
    placement = Placement.objects.select_for_update().get(pk=placement.pk)
    if kind not in Absence.Kind.values:
        raise ApplicationError("Choose the kind of absence.", fields={"kind": "Choose the kind of absence."})
    if starts_on < placement.start_date or (placement.end_date and starts_on > placement.end_date):
        message = "The absence must start while the person is placed."
        raise ApplicationError(message, code="outside_placement", fields={"starts_on": message})
    if ends_on is not None and ends_on < starts_on:
        message = "The absence cannot end before it starts."
        raise ApplicationError(message, fields={"ends_on": message})
    overlapping = placement.absences.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
    if ends_on is not None:
        overlapping = overlapping.filter(starts_on__lte=ends_on)
    if overlapping.exists():
        message = "The person is already recorded as away on some of those days."
        raise ConflictError(message, code="absence_overlaps", fields={"starts_on": message})
    absence = Absence.objects.create(
        placement=placement,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        note=note.strip(),
        recorded_by=by if getattr(by, "is_authenticated", False) else None,
    )
    audit_record(
        actor=by,
        verb="contracts.absence.recorded",
        target=placement,
        organisation=placement.commissioner,
        reason=note.strip(),
        detail={"absence": absence.pk, "kind": kind, "starts_on": str(starts_on), "ends_on": str(ends_on or "")},
    )
    domain_event_send("placement.absence_recorded", placement=placement, absence=absence)
    return absence


@transaction.atomic
def absence_end(*, absence: Absence, ends_on: dt.date, by) -> Absence:
    """The person is back: the absence's last day away."""
    require_council_member_or_system(by, absence.placement.commissioner_id)
    absence = Absence.objects.select_for_update().select_related("placement__commissioner").get(pk=absence.pk)
    if ends_on < absence.starts_on:
        message = "The absence cannot end before it starts."
        raise ApplicationError(message, fields={"ends_on": message})
    before = str(absence.ends_on or "")
    absence.ends_on = ends_on
    absence.save(update_fields=["ends_on"])
    audit_record(
        actor=by,
        verb="contracts.absence.ended",
        target=absence.placement,
        organisation=absence.placement.commissioner,
        detail={"absence": absence.pk, "before": before, "after": str(ends_on)},
    )
    return absence


@transaction.atomic
def death_record(*, placement: Placement, died_on: dt.date, by) -> Death:
    """A resident's death: the placement ends that day and is paid on for the days the body's rules say."""
    require_council_member_or_system(by, placement.commissioner_id)
    placement = Placement.objects.select_for_update().get(pk=placement.pk)
    if Death.objects.filter(placement=placement).exists():
        raise ConflictError("A death is already recorded for this placement.", code="death_recorded")
    if died_on < placement.start_date:
        message = "The date of death is before the placement started."
        raise ApplicationError(message, fields={"died_on": message})
    death = Death.objects.create(
        placement=placement, died_on=died_on, recorded_by=by if getattr(by, "is_authenticated", False) else None
    )
    placement_end_record(placement=placement, actor=by, end_date=died_on, reason="The resident died.")
    rules = payment_rules_for(placement.commissioner_id)
    audit_record(
        actor=by,
        verb="contracts.death.recorded",
        target=placement,
        organisation=placement.commissioner,
        detail={"died_on": str(died_on), "paid_days_after": rules.death_paid_days},
    )
    domain_event_send("placement.death_recorded", placement=placement, death=death)
    return death


# Outcome payments --------------------------------------------------------------------------


def _outcome_rules_for(placement: Placement, outcome: str) -> list[OutcomePaymentRule]:
    contracts = BlockContract.objects.filter(beds__occupancies__placement=placement).values("pk")
    return list(
        OutcomePaymentRule.objects.filter(commissioner_id=placement.commissioner_id, outcome=outcome)
        .filter(Q(lot_id=placement.lot_id) | Q(block_contract__in=contracts))
        .order_by("pk")
    )


@transaction.atomic
def outcome_payments_earn(*, placement: Placement, outcome: str, on: dt.date, by=None) -> list[OutcomePayment]:
    """The outcome payments a placement's recorded outcome earns under its body's rules (for its lot
    or its block contract): each rule pays once, in the schedule whose period holds the later of the
    outcome's date and today, however often the outcome is recorded."""
    placement = Placement.objects.select_related("commissioner").get(pk=placement.pk)
    ends = placement.assessment_ends_on
    due_on = max(on, timezone.localdate())
    earned = [
        OutcomePayment(
            placement=placement, rule=rule, outcome=outcome, outcome_on=on, amount=rule.amount, due_on=due_on
        )
        for rule in _outcome_rules_for(placement, outcome)
        if not (rule.within_assessment_period and ends is not None and on > ends)
    ]
    if not earned:
        return []
    before = set(OutcomePayment.objects.filter(placement=placement).values_list("rule_id", flat=True))
    OutcomePayment.objects.bulk_create(earned, ignore_conflicts=True)
    new = list(
        OutcomePayment.objects.filter(placement=placement, rule__in=[e.rule for e in earned])
        .exclude(rule_id__in=before)
        .select_related("rule")
    )
    for payment in new:
        audit_record(
            actor=by,
            verb="contracts.outcome_payment.earned",
            target=placement,
            organisation=placement.commissioner,
            detail={
                "rule": payment.rule.description,
                "amount": str(payment.amount),
                "outcome": outcome,
                "due_on": str(payment.due_on),
            },
        )
    return new


@transaction.atomic
def outcome_rule_create(
    *,
    by,
    outcome: str,
    amount: Decimal,
    description: str,
    lot=None,
    block_contract=None,
    within_assessment_period: bool = True,
) -> OutcomePaymentRule:
    """A commissioner's outcome payment rule, for one lot or one block contract of its own."""
    require(is_commissioner(by), "Only commissioners define outcome payments.")
    if (lot is None) == (block_contract is None):
        raise ApplicationError("Choose a lot or a block contract.", fields={"lot": "Choose a lot or a block contract."})
    if block_contract is not None and block_contract.commissioner_id != by.organisation_id:
        raise ApplicationError("Choose one of your block contracts.", fields={"block_contract": "Not yours."})
    if outcome not in Placement.AssessmentOutcome.values:
        raise ApplicationError("Choose the outcome that earns the payment.", fields={"outcome": "Choose an outcome."})
    if amount is None or amount <= 0:
        raise ApplicationError("Enter the amount.", fields={"amount": "Enter more than zero."})
    rule = OutcomePaymentRule.objects.create(
        commissioner=by.organisation,
        lot=lot,
        block_contract=block_contract,
        outcome=outcome,
        amount=amount,
        description=description.strip() or f"{Placement.AssessmentOutcome(outcome).label}",
        within_assessment_period=within_assessment_period,
        created_by=by,
    )
    audit_record(
        actor=by,
        verb="contracts.outcome_rule.created",
        target=rule,
        organisation=by.organisation,
        detail={"outcome": outcome, "amount": str(amount)},
    )
    return rule


def imported_shares_write(entries) -> int:
    """Imported placements' shares from their start: the columns given, and the council the rest of
    the fee (the import checked they fit in it; the deferred trigger checks again at commit)."""
    placements = Placement.objects.in_bulk([pk for pk, _, _ in entries])
    rows = []
    for pk, start, shares in entries:
        placement = placements[pk]
        others = sum((share.weekly_amount for share in shares), Decimal("0.00"))
        common = {"placement": placement, "effective_from": start, "reason": FundingShare.Reason.IMPORTED}
        rows.append(
            FundingShare(
                payer_type=PayerType.COUNCIL,
                payer_organisation_id=placement.commissioner_id,
                weekly_amount=placement.weekly_fee - others,
                route=Route.GROSS,
                **common,
            )
        )
        rows += [
            FundingShare(
                payer_type=share.payer_type,
                payer_name=share.payer_name,
                route=share.route,
                weekly_amount=share.weekly_amount,
                **common,
            )
            for share in shares
        ]
    FundingShare.objects.bulk_create(rows)
    return len(rows)
