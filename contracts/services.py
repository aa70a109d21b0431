"""Writes: service agreements and their versions, fee changes, placement ends, fee uplifts."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import DatabaseError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from blockbeds.models import BlockContract, BlockContractRate, UpliftBasis
from core.audit import audit_record, audit_record_many
from core.dates import not_in_past_check
from core.errors import ApplicationError, ConflictError
from core.notifications import notify_organisation
from lots.models import Lot
from organisations.models import Organisation, Role
from organisations.permissions import is_commissioner, is_provider_user, require, require_council_member_or_system
from placements.models import Placement

from .models import FeePeriod, ServiceAgreement, Uplift, UpliftRule

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
