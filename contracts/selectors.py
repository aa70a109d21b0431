"""Reads: fee history on a date, and agreements and uplifts scoped to the user."""

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from bidding.models import Award
from core.errors import NotFoundError
from core.models import AuditEvent
from fairness.models import BedHold, LapsedAward, Standstill
from organisations.models import Organisation
from placements.models import Placement
from placements.selectors import placement_list

from .models import (
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
    Uplift,
)


@dataclass(frozen=True)
class Fee:
    effective_from: dt.date
    weekly_fee: Decimal
    council_weekly_amount: Decimal
    top_up_weekly_amount: Decimal


def _placement_fee(placement: Placement) -> Fee:
    return Fee(
        placement.start_date,
        placement.weekly_fee,
        placement.council_weekly_amount,
        placement.top_up_weekly_amount,
    )


def _period_fee(period: FeePeriod) -> Fee:
    return Fee(period.effective_from, period.weekly_fee, period.council_weekly_amount, period.top_up_weekly_amount)


def fee_history(*, placement: Placement) -> list[Fee]:
    """The placement's fees in date order; a placement never changed has just its agreed fee.

    Uses the prefetched `fee_periods` when the caller prefetched them.
    """
    periods = sorted(placement.fee_periods.all(), key=lambda p: p.effective_from)
    if not periods:
        return [_placement_fee(placement)]
    fees = [_period_fee(p) for p in periods]
    # The agreed fee covers the whole start of the placement, even if its start date moved earlier.
    first = fees[0]
    fees[0] = Fee(
        min(first.effective_from, placement.start_date),
        first.weekly_fee,
        first.council_weekly_amount,
        first.top_up_weekly_amount,
    )
    return fees


def is_live_on(placement: Placement, on: dt.date) -> bool:
    return placement.start_date <= on and (placement.end_date is None or on <= placement.end_date)


def fee_on(*, placement: Placement, on: dt.date) -> Fee | None:
    """The fee (with its council and top-up parts) in force on a day; None if not placed that day."""
    if not is_live_on(placement, on):
        return None
    current = None
    for fee in fee_history(placement=placement):
        if fee.effective_from > on:
            break
        current = fee
    return current


def weekly_fee_on(*, placement: Placement, on: dt.date) -> Decimal | None:
    """The gross weekly fee in force on a day; None if the person was not placed that day."""
    fee = fee_on(placement=placement, on=on)
    return fee.weekly_fee if fee else None


def placements_live_on(queryset: QuerySet[Placement], on: dt.date) -> QuerySet[Placement]:
    return queryset.filter(Q(end_date__isnull=True) | Q(end_date__gte=on), start_date__lte=on)


def fee_on_expression(on: dt.date, field: str = "weekly_fee"):
    """A query expression for a placement's `field` (weekly_fee, council_weekly_amount or
    top_up_weekly_amount) in force on `on`, for use in annotations and aggregates.

    For a placement that ended before `on` it gives the fee it ended on; a placement whose
    fee never changed has no history rows and keeps its own fee. E.g. the mean weekly cost of
    placements active in a month: `Avg(fee_on_expression(month_end), filter=active_in_month)`.
    """
    history = FeePeriod.objects.filter(placement=OuterRef("pk"))
    latest = history.filter(effective_from__lte=on).order_by("-effective_from").values(field)[:1]
    agreed = history.order_by("effective_from").values(field)[:1]
    money = DecimalField(max_digits=10, decimal_places=2)
    return Coalesce(
        Subquery(latest, output_field=money), Subquery(agreed, output_field=money), field, output_field=money
    )


def with_weekly_fee_on(queryset: QuerySet[Placement], on: dt.date) -> QuerySet[Placement]:
    """Annotate `fee_on_date`, `council_on_date` and `top_up_on_date`: the fee in force on `on`.

    One query for any number of placements, e.g.
    `with_weekly_fee_on(placements_live_on(qs, on), on).aggregate(Avg("fee_on_date"))`.
    """
    return queryset.annotate(
        fee_on_date=fee_on_expression(on),
        council_on_date=fee_on_expression(on, "council_weekly_amount"),
        top_up_on_date=fee_on_expression(on, "top_up_weekly_amount"),
    )


def agreement_list(*, actor) -> QuerySet[ServiceAgreement]:
    """Agreements the user's organisation is party to: a council its own, a provider its own."""
    qs = ServiceAgreement.objects.select_related("placement", "accepted_by")
    if not (actor.is_authenticated and actor.organisation_id):
        return qs.none()
    if actor.is_council_user:
        return qs.filter(commissioner_id=actor.organisation_id)
    if actor.is_provider_user:
        return qs.filter(provider_id=actor.organisation_id)
    return qs.none()


def agreement_get(*, actor, pk: int) -> ServiceAgreement:
    agreement = agreement_list(actor=actor).filter(pk=pk).first()
    if agreement is None:
        raise NotFoundError("No such agreement.")
    return agreement


def agreement_versions(*, agreement: ServiceAgreement) -> QuerySet[ServiceAgreement]:
    return ServiceAgreement.objects.filter(placement_id=agreement.placement_id).order_by("-version")


def uplift_list(*, actor) -> QuerySet[Uplift]:
    if not (actor.is_authenticated and actor.organisation_id and actor.is_council_user):
        return Uplift.objects.none()
    return Uplift.objects.filter(commissioner_id=actor.organisation_id).prefetch_related("rules__lot")


def uplift_get(*, actor, pk: int) -> Uplift:
    uplift = uplift_list(actor=actor).filter(pk=pk).first()
    if uplift is None:
        raise NotFoundError("No such uplift.")
    return uplift


@dataclass
class PlacementRecord:
    """Everything the placement page shows: the placement, how it was sourced (the request, and
    the award with its reasons, or the lapsed award it was), its agreement versions and fees."""

    placement: Placement
    award: object | None
    lapsed_award: object | None
    bed_hold: object | None
    standstill: object | None
    agreements: list[ServiceAgreement]
    fee_periods: list[FeePeriod]


def placement_record_get(*, actor, pk: int) -> PlacementRecord:
    """A placement the user may see (its commissioning body's, or the home's provider's), with its record.
    The award's reasons are the commissioning body's: a provider gets the placement without them."""
    placement = (
        placement_list(actor=actor).select_related("request", "care_home__provider", "created_by").filter(pk=pk).first()
    )
    if placement is None:
        raise NotFoundError("No such placement.")
    award = lapsed = hold = standstill = None
    if actor.is_council_user and placement.source == Placement.Source.TENDER:
        lapsed = LapsedAward.objects.filter(placement=placement).select_related("bid__care_home", "awarded_by").first()
        if lapsed is None and placement.request_id:
            award = (
                Award.objects.filter(tender__request_id=placement.request_id, bid__care_home_id=placement.care_home_id)
                .select_related("bid__care_home", "tender", "awarded_by")
                .first()
            )
        bid_id = (award or lapsed).bid_id if (award or lapsed) else None
        if bid_id:
            hold = BedHold.objects.filter(bid_id=bid_id).first()
            standstill = Standstill.objects.filter(bid_id=bid_id).first()
    return PlacementRecord(
        placement=placement,
        award=award,
        lapsed_award=lapsed,
        bed_hold=hold,
        standstill=standstill,
        agreements=list(ServiceAgreement.objects.filter(placement=placement).order_by("-version")),
        fee_periods=list(
            FeePeriod.objects.filter(placement=placement).select_related("uplift").order_by("effective_from")
        ),
    )


# Who pays what -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """One payer's weekly part of the fee; `payer` is the name shown on agreements and schedules."""

    payer_type: str
    weekly_amount: Decimal
    route: str = Route.GROSS
    payer_organisation_id: int | None = None
    payer_name: str = ""
    payer: str = ""

    @property
    def key(self) -> tuple:
        return (self.payer_type, self.payer_organisation_id, self.payer_name, self.route)

    def with_amount(self, amount: Decimal) -> "Share":
        return replace(self, weekly_amount=amount)

    @property
    def payer_type_label(self) -> str:
        return PayerType(self.payer_type).label


@dataclass(frozen=True)
class ShareSet:
    """The shares in force from `effective_from` to `effective_to` (open-ended when None)."""

    effective_from: dt.date
    effective_to: dt.date | None
    shares: tuple[Share, ...]

    @property
    def total(self) -> Decimal:
        return sum((s.weekly_amount for s in self.shares), Decimal("0.00"))

    def covers(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


SHARE_ORDER = {value: index for index, value in enumerate(PayerType.values)}


def _share_sort(share: Share):
    return (SHARE_ORDER[share.payer_type], share.payer, share.route)


def _row_share(row: FundingShare) -> Share:
    return Share(
        payer_type=row.payer_type,
        weekly_amount=row.weekly_amount,
        route=row.route,
        payer_organisation_id=row.payer_organisation_id,
        payer_name=row.payer_name,
        payer=row.payer,
    )


def default_shares(placement: Placement, council: Decimal, top_up: Decimal) -> tuple[Share, ...]:
    """The funding of a placement whose shares were never recorded: the council, and any top-up."""
    shares = [
        Share(
            PayerType.COUNCIL,
            council,
            Route.GROSS,
            payer_organisation_id=placement.commissioner_id,
            payer=placement.commissioner.name,
        )
    ]
    if top_up:
        payer = placement.top_up_payer or "Top-up payer (not recorded)"
        shares.append(Share(PayerType.TOP_UP, top_up, Route.GROSS, payer_name=payer, payer=payer))
    return tuple(shares)


def share_sets(*, placement: Placement) -> list[ShareSet]:
    """The placement's funding in date order. Uses prefetched `funding_shares` (see
    `funding_shares_prefetch`) when the caller prefetched them; a placement with none recorded is
    funded by the council and any top-up as each of its fees splits."""
    rows = [r for r in placement.funding_shares.all() if r.superseded_at is None]
    if rows:
        grouped: dict[tuple, list[Share]] = {}
        for row in rows:
            grouped.setdefault((row.effective_from, row.effective_to), []).append(_row_share(row))
        sets = [
            ShareSet(start, end, tuple(sorted(shares, key=_share_sort)))
            for (start, end), shares in sorted(grouped.items(), key=lambda item: item[0][0])
        ]
        # As with fees, the first shares cover the whole start of the placement, even if it moved earlier.
        first = sets[0]
        sets[0] = ShareSet(min(first.effective_from, placement.start_date), first.effective_to, first.shares)
        return sets
    history = fee_history(placement=placement)
    return [
        ShareSet(
            fee.effective_from,
            history[index + 1].effective_from - dt.timedelta(days=1) if index + 1 < len(history) else None,
            default_shares(placement, fee.council_weekly_amount, fee.top_up_weekly_amount),
        )
        for index, fee in enumerate(history)
    ]


def funding_shares_prefetch() -> Prefetch:
    return Prefetch(
        "funding_shares",
        queryset=FundingShare.objects.filter(superseded_at__isnull=True).select_related("payer_organisation"),
    )


def shares_on(placement: Placement, day: dt.date) -> list[Share]:
    """Each payer's weekly share of the placement's fee on a day; none if the person was not placed then."""
    if not is_live_on(placement, day):
        return []
    for share_set in share_sets(placement=placement):
        if share_set.covers(day):
            return list(share_set.shares)
    return []


def fnc_rate_on(day: dt.date) -> FncRate | None:
    """The national FNC rate in force on a day."""
    return FncRate.objects.filter(effective_from__lte=day).order_by("-effective_from").first()


def fnc_rate_list() -> QuerySet[FncRate]:
    return FncRate.objects.order_by("-effective_from")


@dataclass(frozen=True)
class FncRateRow:
    """A national FNC rate and where applying it to the nursing placements has got to."""

    rate: FncRate
    status: str


def fnc_rate_rows() -> list[FncRateRow]:
    """Every rate, newest first, with its progress read from its audit events (one query for all)."""
    rates = list(fnc_rate_list())
    latest: dict[str, AuditEvent] = {}
    events = AuditEvent.objects.filter(
        target_type=FncRate._meta.label_lower,
        target_id__in=[str(r.pk) for r in rates],
        verb__in=["contracts.fnc_rate.queued", "contracts.fnc_rate.progress", "contracts.fnc_rate.applied"],
    ).order_by("created_at", "pk")
    for event in events:
        latest[event.target_id] = event
    rows = []
    for rate in rates:
        event = latest.get(str(rate.pk))
        if event is None:
            status = "Not applied yet"
        elif event.verb == "contracts.fnc_rate.applied":
            changed = event.detail.get("placements", 0)
            status = f"Applied: {changed} nursing placement{'s' if changed != 1 else ''} changed"
        elif event.verb == "contracts.fnc_rate.progress":
            status = f"Being applied: {event.detail['done']} of {event.detail['total']} nursing placements done"
        else:
            status = "Waiting to be applied"
        rows.append(FncRateRow(rate, status))
    return rows


def payment_rules_for(commissioner_id: int) -> PaymentRules:
    """The body's rules for absences and deaths; the defaults when it has saved none."""
    rules = PaymentRules.objects.filter(commissioner_id=commissioner_id).first()
    return rules or PaymentRules(commissioner_id=commissioner_id)


def absence_full_fee_until(absence: Absence, rules: PaymentRules) -> dt.date:
    """The last day of an absence paid in full under the body's rules (the reduced rate follows)."""
    return absence.starts_on + dt.timedelta(weeks=rules.absence_full_weeks) - dt.timedelta(days=1)


def death_paid_until(death: Death, rules: PaymentRules) -> dt.date:
    """The last day paid after a death under the body's rules."""
    return death.died_on + dt.timedelta(days=rules.death_paid_days)


@dataclass
class PlacementPayers:
    """Who pays a placement and what changes the payments: its funding over time, the shares in
    force today, its absences and death, the body's payment rules for them and its outcome payments."""

    share_sets: list[ShareSet]
    current: ShareSet | None
    absences: list[Absence]
    death: Death | None
    rules: PaymentRules
    outcome_payments: list[OutcomePayment]

    def absence_rule(self, absence: Absence) -> str:
        """Which rule pays the days of an absence, in words."""
        full_to = absence_full_fee_until(absence, self.rules)
        text = f"Full fee to {full_to:%-d %B %Y}"
        if absence.ends_on is None or absence.ends_on > full_to:
            text += f", then {self.rules.absence_reduced_percent.normalize():f}% of the fee while away"
        return text

    @property
    def absence_rows(self) -> list[tuple[Absence, str]]:
        return [(absence, self.absence_rule(absence)) for absence in self.absences]

    @property
    def death_rule(self) -> str:
        if self.death is None:
            return ""
        days = self.rules.death_paid_days
        until = death_paid_until(self.death, self.rules)
        return f"Paid for {days} day{'s' if days != 1 else ''} after the death, to {until:%-d %B %Y}"

    @property
    def open_absence(self) -> Absence | None:
        return next((a for a in self.absences if a.ends_on is None), None)


def placement_payers(*, placement: Placement, on: dt.date) -> PlacementPayers:
    """The placement's payers as its page and the API show them; the caller has scoped the placement."""
    placement = (
        Placement.objects.select_related("commissioner")
        .prefetch_related("fee_periods", funding_shares_prefetch())
        .get(pk=placement.pk)
    )
    sets = share_sets(placement=placement)
    current = next((s for s in sets if s.covers(on)), None) or (sets[-1] if sets else None)
    return PlacementPayers(
        share_sets=sets,
        current=current,
        absences=absence_list(placement=placement),
        death=Death.objects.filter(placement=placement).first(),
        rules=payment_rules_for(placement.commissioner_id),
        outcome_payments=outcome_payment_list(placement=placement),
    )


def absence_list(*, placement: Placement) -> list[Absence]:
    return list(Absence.objects.filter(placement=placement).select_related("recorded_by").order_by("starts_on", "pk"))


def absence_get(*, placement: Placement, pk: int) -> Absence:
    absence = Absence.objects.filter(placement=placement, pk=pk).select_related("placement").first()
    if absence is None:
        raise NotFoundError("No such absence.")
    return absence


def outcome_payment_list(*, placement: Placement) -> list[OutcomePayment]:
    return list(OutcomePayment.objects.filter(placement=placement).select_related("rule").order_by("due_on", "pk"))


def outcome_rule_list(*, actor) -> QuerySet[OutcomePaymentRule]:
    """The commissioner's body's outcome payment rules."""
    if not (actor.is_authenticated and actor.organisation_id and actor.is_council_user):
        return OutcomePaymentRule.objects.none()
    return (
        OutcomePaymentRule.objects.filter(commissioner_id=actor.organisation_id)
        .select_related("lot", "block_contract")
        .order_by("outcome", "pk")
    )


def nhs_payer_list() -> QuerySet:
    """The NHS bodies a share may name as its payer."""
    return Organisation.objects.filter(kind=Organisation.Kind.NHS).order_by("name")
