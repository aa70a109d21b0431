"""Payment schedules: what each payer owes each provider for a period.

Day-rate rule: a line covers one placement, one payer's share of its fee and the days that share
(and the payment rule for those days) was in force within the period, both ends inclusive. Its
amount is the share's weekly amount x days / 7 (x the percentage an absence rule pays), rounded to
the penny (half up) once per line. Every total is the plain sum of its lines, so totals always
reconcile to the penny, per payer as overall.

Who pays the home: the council pays its own share and every share on the gross route (then
collects that share from its payer: the contributions and recharges to collect); a share on the
net route is paid to the home by its payer (the person, a family member, an NHS body).

Absences and deaths follow the commissioning body's payment rules (`PaymentRules`): the full fee
for the first weeks of a temporary absence, then a percentage; the fee for a number of days after
a death. Each such line's note says which rule applied. Outcome payments earned by a placement are
lines of the schedule whose period holds their due date.

Block beds are paid for every day the bed is live (from its live date, within the contract's
dates), filled or void, at the contract's weekly rate in force that day: a rate change inside
the period gives the bed one line per rate. Placements filling block beds are
therefore not paid again as placements.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from django.db.models import Prefetch, Q, prefetch_related_objects

from blockbeds.models import BlockBed, BlockContract, Occupancy
from blockbeds.selectors import rate_segments
from core.dates import date_filter_check
from core.errors import ApplicationError, ForbiddenError
from placements.models import Placement

from .models import OutcomePayment, PayerType, PaymentRules, Route
from .selectors import (
    SHARE_ORDER,
    absence_full_fee_until,
    death_paid_until,
    fee_history,
    funding_shares_prefetch,
    payment_rules_for,
    share_sets,
)

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
# A death's paid days may run into the next period: placements ended this long before it are read.
LONGEST_PAID_AFTER_DEATH = dt.timedelta(days=366)
PERIOD_PATTERN = re.compile(r"^(?P<year>\d{4})-W(?P<week>\d{2})(?:/(?P<weeks>[14]))?$")


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_parse(value: str) -> Period:
    """`2026-W15` is ISO week 15 of 2026 (Monday to Sunday); `2026-W15/4` the four weeks from it."""
    match = PERIOD_PATTERN.match((value or "").strip())
    if not match:
        raise ApplicationError(
            "Give the period as an ISO week, e.g. 2026-W15, or four weeks from one, e.g. 2026-W15/4.",
            code="invalid_period",
            fields={"period": "Enter a period like 2026-W15 or 2026-W15/4."},
        )
    weeks = int(match["weeks"] or 1)
    try:
        start = dt.date.fromisocalendar(int(match["year"]), int(match["week"]), 1)
    except ValueError as exc:
        raise ApplicationError(
            "That week does not exist.", code="invalid_period", fields={"period": "Enter a real ISO week."}
        ) from exc
    end = start + dt.timedelta(days=7 * weeks - 1)
    date_filter_check({"period": start})
    return Period(start, end, match.group(0))


def period_containing(day: dt.date, weeks: int = 1) -> Period:
    year, week, _ = day.isocalendar()
    return period_parse(f"{year}-W{week:02d}" + ("/4" if weeks == 4 else ""))


def _pro_rata(weekly: Decimal, days: int) -> Decimal:
    return (weekly * days / 7).quantize(PENNY, rounding=ROUND_HALF_UP)


def council_pays(payer_type: str, route: str) -> bool:
    """The council pays the home a share: its own, or any share on the gross route."""
    return payer_type == PayerType.COUNCIL or route == Route.GROSS


@dataclass
class ScheduleLine:
    kind: str
    commissioner: object
    provider: object
    care_home: object
    reference: str
    lot: str
    start: dt.date
    end: dt.date
    weekly_fee: Decimal
    weekly_amount: Decimal
    payer_type: str = PayerType.COUNCIL
    payer: str = ""
    route: str = Route.GROSS
    percent: Decimal = HUNDRED
    fixed_amount: Decimal | None = None
    note: str = ""
    placement_id: int | None = None
    bed_id: int | None = None

    PLACEMENT = "placement"
    BLOCK_BED = "block_bed"
    OUTCOME = "outcome"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def amount(self) -> Decimal:
        if self.fixed_amount is not None:
            return self.fixed_amount
        return _pro_rata(self.weekly_amount * self.percent / HUNDRED, self.days)

    @property
    def council_pays(self) -> bool:
        return council_pays(self.payer_type, self.route)

    @property
    def paid_by(self) -> str:
        return self.commissioner.name if self.council_pays else self.payer

    @property
    def council_weekly(self) -> Decimal:
        return self.weekly_amount if self.payer_type == PayerType.COUNCIL else ZERO

    @property
    def top_up_weekly(self) -> Decimal:
        return self.weekly_amount if self.payer_type == PayerType.TOP_UP else ZERO

    @property
    def top_up_payer(self) -> str:
        return self.payer if self.payer_type == PayerType.TOP_UP else ""

    @property
    def council_amount(self) -> Decimal:
        return self.amount if self.payer_type == PayerType.COUNCIL else ZERO

    @property
    def top_up_amount(self) -> Decimal:
        return self.amount if self.payer_type == PayerType.TOP_UP else ZERO

    @property
    def gross_amount(self) -> Decimal:
        return self.amount


@dataclass
class PayerTotal:
    payer_type: str
    payer: str
    route: str
    amount: Decimal = ZERO

    @property
    def council_pays(self) -> bool:
        return council_pays(self.payer_type, self.route)

    @property
    def payer_type_label(self) -> str:
        return PayerType(self.payer_type).label


@dataclass
class Totals:
    """`council`: the council's own shares; `top_up`: third-party top-ups; `gross`: every line.
    `council_pays`: what the council pays the homes (its shares and the gross-route shares);
    `to_collect`: what it then collects from other payers; `paid_direct`: net shares paid by their
    payers to the homes. `by_payer`: the lines' sum per payer, route and payer type."""

    council: Decimal = ZERO
    top_up: Decimal = ZERO
    gross: Decimal = ZERO
    council_pays: Decimal = ZERO
    to_collect: Decimal = ZERO
    paid_direct: Decimal = ZERO
    payers: dict = field(default_factory=dict)

    def add(self, line: ScheduleLine) -> None:
        amount = line.amount
        self.council += line.council_amount
        self.top_up += line.top_up_amount
        self.gross += amount
        if line.council_pays:
            self.council_pays += amount
            if line.payer_type != PayerType.COUNCIL:
                self.to_collect += amount
        else:
            self.paid_direct += amount
        key = (line.payer_type, line.payer, line.route)
        self.payers.setdefault(key, PayerTotal(*key)).amount += amount

    @property
    def by_payer(self) -> list[PayerTotal]:
        return sorted(self.payers.values(), key=lambda t: (SHARE_ORDER[t.payer_type], t.payer, t.route))


@dataclass
class Remittance:
    """What one commissioning body's placements pay one provider for the period, by every payer."""

    commissioner: object
    provider: object
    lines: list[ScheduleLine] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)


@dataclass
class PaymentSchedule:
    period: Period
    remittances: list[Remittance] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)

    @property
    def lines(self) -> list[ScheduleLine]:
        return [line for remittance in self.remittances for line in remittance.lines]


@dataclass(frozen=True)
class RuleSpan:
    """Days paid under one payment rule: the percentage of each share paid and the note saying why."""

    start: dt.date
    end: dt.date
    percent: Decimal
    note: str


def _rule_spans(placement: Placement, rules: PaymentRules, start: dt.date, end: dt.date) -> list[RuleSpan]:
    """The days from `start` to `end` cut where an absence or death rule starts or stops applying."""
    cuts: list[tuple[dt.date, dt.date, Decimal, str]] = []
    for absence in placement.absences.all():
        away_to = absence.ends_on or end
        full_to = absence_full_fee_until(absence, rules)
        kind = absence.get_kind_display().lower()
        since = f"{kind} from {absence.starts_on:%-d %b %Y}"
        cuts.append(
            (
                absence.starts_on,
                min(away_to, full_to),
                HUNDRED,
                f"Away ({since}): full fee for the first {rules.absence_full_weeks} weeks",
            )
        )
        if away_to > full_to:
            percent = rules.absence_reduced_percent
            cuts.append(
                (
                    full_to + dt.timedelta(days=1),
                    away_to,
                    percent,
                    f"Away ({since}): {percent.normalize():f}% of the fee after {rules.absence_full_weeks} weeks",
                )
            )
    death = getattr(placement, "death", None)
    if death is not None:
        cuts.append(
            (
                death.died_on + dt.timedelta(days=1),
                death_paid_until(death, rules),
                HUNDRED,
                f"Paid for {rules.death_paid_days} days after the death on {death.died_on:%-d %b %Y}",
            )
        )
    days = {start, end + dt.timedelta(days=1)}
    for first, last, _, _ in cuts:
        days |= {first, last + dt.timedelta(days=1)}
    bounds = sorted(d for d in days if start <= d <= end + dt.timedelta(days=1))
    spans = []
    for first, after in pairwise(bounds):
        last = after - dt.timedelta(days=1)
        cut = next(((p, n) for a, b, p, n in reversed(cuts) if a <= first and last <= b), (HUNDRED, ""))
        spans.append(RuleSpan(first, last, *cut))
    return spans


def paid_until(placement: Placement, rules: PaymentRules) -> dt.date | None:
    """The last day a placement is paid: its end, or some days after a death as the rules say."""
    death = getattr(placement, "death", None)
    if death is not None:
        return death_paid_until(death, rules)
    return placement.end_date


def _placement_lines(period: Period, placements, rules_for=None) -> list[ScheduleLine]:
    rules_for = rules_for or payment_rules_for
    lines = []
    for placement in placements:
        rules = rules_for(placement.commissioner_id)
        last_paid = paid_until(placement, rules)
        window_start = max(period.start, placement.start_date)
        window_end = min(period.end, last_paid or period.end)
        if window_start > window_end:
            continue
        history = fee_history(placement=placement)
        spans = _rule_spans(placement, rules, window_start, window_end)
        home = placement.care_home
        for share_set in share_sets(placement=placement):
            set_start = max(window_start, share_set.effective_from)
            set_end = min(window_end, share_set.effective_to or window_end)
            for span in spans:
                start, end = max(set_start, span.start), min(set_end, span.end)
                if start > end:
                    continue
                fee = _fee_on_day(history, start)
                for share in share_set.shares:
                    if not share.weekly_amount:
                        continue
                    lines.append(
                        ScheduleLine(
                            kind=ScheduleLine.PLACEMENT,
                            commissioner=placement.commissioner,
                            provider=home.provider,
                            care_home=home,
                            reference=placement.case_reference,
                            lot=str(placement.lot.number),
                            start=start,
                            end=end,
                            weekly_fee=fee,
                            weekly_amount=share.weekly_amount,
                            payer_type=share.payer_type,
                            payer=share.payer,
                            route=share.route,
                            percent=span.percent,
                            note=span.note,
                            placement_id=placement.pk,
                        )
                    )
    return lines


def _fee_on_day(history, day: dt.date) -> Decimal:
    current = history[0]
    for fee in history:
        if fee.effective_from > day:
            break
        current = fee
    return current.weekly_fee


def _outcome_lines(period: Period, payments) -> list[ScheduleLine]:
    return [
        ScheduleLine(
            kind=ScheduleLine.OUTCOME,
            commissioner=payment.placement.commissioner,
            provider=payment.placement.care_home.provider,
            care_home=payment.placement.care_home,
            reference=payment.placement.case_reference,
            lot=str(payment.placement.lot.number),
            start=payment.due_on,
            end=payment.due_on,
            weekly_fee=ZERO,
            weekly_amount=ZERO,
            payer=payment.placement.commissioner.name,
            fixed_amount=payment.amount,
            note=f"Outcome payment: {payment.rule.description} (outcome on {payment.outcome_on:%-d %b %Y})",
            placement_id=payment.placement_id,
        )
        for payment in payments
    ]


def _days_filled(bed: BlockBed, start: dt.date, end: dt.date) -> int:
    days = 0
    for occupancy in bed.occupancies.all():
        # An occupancy's end date is the day the bed is free again.
        occupied_to = occupancy.end_date - dt.timedelta(days=1) if occupancy.end_date else end
        overlap = (min(end, occupied_to) - max(start, occupancy.start_date)).days + 1
        days += max(overlap, 0)
    return days


def _block_bed_lines(period: Period, contracts) -> list[ScheduleLine]:
    """One line per live bed per rate in force within the period, so a rate change inside the
    period splits the bed's days pro rata; the filled/void note covers each line's own days."""
    lines = []
    for contract in contracts:
        lots = ", ".join(str(lot.number) for lot in contract.lots.all())
        for bed in contract.beds.all():
            if bed.live_from is None:
                continue
            start = max(period.start, contract.start_date, bed.live_from)
            end = min(period.end, contract.end_date)
            if start > end:
                continue
            for first, last, rate in rate_segments(contract, start, end):
                filled = _days_filled(bed, first, last)
                days = (last - first).days + 1
                note = "Void" if filled == 0 else ("Filled" if filled >= days else f"Filled {filled} of {days} days")
                lines.append(
                    ScheduleLine(
                        kind=ScheduleLine.BLOCK_BED,
                        commissioner=contract.commissioner,
                        provider=contract.provider,
                        care_home=contract.care_home,
                        reference=f"{contract.reference}/{bed.label}",
                        lot=lots,
                        start=first,
                        end=last,
                        weekly_fee=rate,
                        weekly_amount=rate,
                        payer=contract.commissioner.name,
                        note=note,
                        bed_id=bed.pk,
                    )
                )
    return lines


def payment_schedule_build(
    *, period: Period, commissioner_id: int | None = None, provider_id: int | None = None
) -> PaymentSchedule:
    """The schedule for a period, for one commissioning body, one provider, or both."""
    placements = (
        Placement.objects.live()
        .filter(care_home__isnull=False, start_date__lte=period.end)
        .filter(
            Q(end_date__isnull=True)
            | Q(end_date__gte=period.start)
            | Q(death__isnull=False, end_date__gte=period.start - LONGEST_PAID_AFTER_DEATH)
        )
        .exclude(source=Placement.Source.BLOCK_BED)
        .select_related("commissioner", "care_home__provider", "lot", "death")
        .prefetch_related("fee_periods", funding_shares_prefetch(), "absences")
    )
    outcomes = OutcomePayment.objects.filter(due_on__range=(period.start, period.end)).select_related(
        "rule", "placement__commissioner", "placement__care_home__provider", "placement__lot"
    )
    contracts = (
        BlockContract.objects.filter(start_date__lte=period.end, end_date__gte=period.start)
        .select_related("commissioner", "provider", "care_home")
        .prefetch_related(
            "lots",
            "rates",
            Prefetch(
                "beds",
                queryset=BlockBed.objects.order_by("label").prefetch_related(
                    Prefetch(
                        "occupancies",
                        queryset=Occupancy.objects.filter(start_date__lte=period.end).filter(
                            Q(end_date__isnull=True) | Q(end_date__gt=period.start)
                        ),
                    )
                ),
            ),
        )
    )
    if commissioner_id is not None:
        placements = placements.filter(commissioner_id=commissioner_id)
        contracts = contracts.filter(commissioner_id=commissioner_id)
        outcomes = outcomes.filter(placement__commissioner_id=commissioner_id)
    if provider_id is not None:
        placements = placements.filter(care_home__provider_id=provider_id)
        contracts = contracts.filter(provider_id=provider_id)
        outcomes = outcomes.filter(placement__care_home__provider_id=provider_id)
    saved_rules = {r.commissioner_id: r for r in PaymentRules.objects.all()}

    def rules_for(commissioner_id: int) -> PaymentRules:
        return saved_rules.get(commissioner_id) or PaymentRules(commissioner_id=commissioner_id)

    remittances: dict[tuple[int, int], Remittance] = {}
    lines = _placement_lines(period, placements, rules_for) + _block_bed_lines(period, contracts)
    for line in lines + _outcome_lines(period, outcomes):
        key = (line.commissioner.pk, line.provider.pk)
        remittances.setdefault(key, Remittance(line.commissioner, line.provider)).lines.append(line)

    schedule = PaymentSchedule(period)
    for remittance in sorted(remittances.values(), key=lambda r: (r.commissioner.name, r.provider.name)):
        remittance.lines.sort(
            key=lambda line: (
                line.care_home.name,
                line.kind,
                line.reference,
                line.start,
                SHARE_ORDER[line.payer_type],
                line.payer,
            )
        )
        for line in remittance.lines:
            remittance.totals.add(line)
            schedule.totals.add(line)
        schedule.remittances.append(remittance)
    return schedule


CSV_HEADER = [
    "period_start",
    "period_end",
    "commissioner",
    "provider",
    "provider_cqc_id",
    "care_home",
    "cqc_location_id",
    "line_type",
    "reference",
    "placement_id",
    "lot",
    "from_date",
    "to_date",
    "days",
    "weekly_fee",
    "council_weekly",
    "top_up_weekly",
    "council_amount",
    "top_up_amount",
    "gross_amount",
    "top_up_payer",
    "note",
    "payer_type",
    "payer",
    "route",
    "weekly_amount",
    "percent_paid",
    "amount",
    "paid_to_home_by",
]
TOTAL_LINE = "payer_total"
SCHEDULE_TOTAL_LINE = "schedule_total"


def csv_rows(schedule: PaymentSchedule):
    """One row per line, then the totals check: a row per payer (type, payer and route) and one for
    the whole schedule, each the sum of the lines above it."""
    period = [schedule.period.start.isoformat(), schedule.period.end.isoformat()]
    for line in schedule.lines:
        yield [
            *period,
            line.commissioner.name,
            line.provider.name,
            line.provider.cqc_provider_id,
            line.care_home.name,
            line.care_home.cqc_location_id,
            line.kind,
            line.reference,
            line.placement_id or "",
            line.lot,
            line.start.isoformat(),
            line.end.isoformat(),
            line.days,
            line.weekly_fee,
            line.council_weekly,
            line.top_up_weekly,
            line.council_amount,
            line.top_up_amount,
            line.gross_amount,
            line.top_up_payer,
            line.note,
            line.payer_type,
            line.payer,
            line.route,
            line.weekly_amount,
            line.percent,
            line.amount,
            line.paid_by,
        ]
    blank = [""] * 13
    totals = schedule.totals
    for total in totals.by_payer:
        council = total.amount if total.payer_type == PayerType.COUNCIL else ZERO
        top_up = total.amount if total.payer_type == PayerType.TOP_UP else ZERO
        yield [
            *period,
            "",
            "",
            "",
            "",
            "",
            TOTAL_LINE,
            *blank[:9],
            council,
            top_up,
            total.amount,
            "",
            "",
            total.payer_type,
            total.payer,
            total.route,
            "",
            "",
            total.amount,
            "",
        ]
    yield [
        *period,
        "",
        "",
        "",
        "",
        "",
        SCHEDULE_TOTAL_LINE,
        *blank[:9],
        totals.council,
        totals.top_up,
        totals.gross,
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        totals.gross,
        "",
    ]


def payment_schedule_for(*, actor, period: Period) -> PaymentSchedule:
    """The schedule the user may see: a council its own body's, a provider its own lines only."""
    if actor.is_authenticated and actor.organisation_id:
        if actor.is_council_user:
            return payment_schedule_build(period=period, commissioner_id=actor.organisation_id)
        if actor.is_provider_user:
            return payment_schedule_build(period=period, provider_id=actor.organisation_id)
    raise ForbiddenError("Your role cannot see payment schedules.")


def placement_payment_lines(*, placement: Placement, period: Period) -> list[ScheduleLine]:
    """One spot placement's lines of the payment schedule for a period, as the schedule pays them.
    A block-bed placement has none of its own: its bed is paid through the block contract."""
    if placement.source == Placement.Source.BLOCK_BED or placement.cancelled_at or placement.care_home_id is None:
        return []
    rules = payment_rules_for(placement.commissioner_id)
    last_paid = paid_until(placement, rules)
    if placement.start_date > period.end or (last_paid and last_paid < period.start):
        return []
    # The same reads as the whole schedule's, whatever the placement's history of fees and funding.
    prefetch_related_objects([placement], "fee_periods", funding_shares_prefetch(), "absences")
    return _placement_lines(period, [placement], lambda _commissioner_id: rules)
