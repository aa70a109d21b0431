"""Payment schedules: what a commissioning body owes each provider for a period.

Day-rate rule: a line covers the days one weekly fee (or one block bed's weekly rate) was in
force within the period, both ends inclusive. Its amount is weekly amount x days / 7, worked
out separately for the council's part and the third-party top-up, each rounded to the penny
(half up) once per line. The gross of a line is its council amount plus its top-up amount,
and every total is the plain sum of its lines, so totals always reconcile to the penny.

Block beds are paid for every day the bed is live (from its live date, within the contract's
dates), filled or void, at the contract's weekly rate in force that day: a rate change inside
the period gives the bed one line per rate. Placements filling block beds are
therefore not paid again as placements.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch, Q

from blockbeds.models import BlockBed, BlockContract, Occupancy
from blockbeds.selectors import rate_segments
from core.dates import date_filter_check
from core.errors import ApplicationError, ForbiddenError
from placements.models import Placement

from .selectors import fee_history

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")
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
    council_weekly: Decimal
    top_up_weekly: Decimal
    top_up_payer: str = ""
    note: str = ""
    placement_id: int | None = None
    bed_id: int | None = None

    PLACEMENT = "placement"
    BLOCK_BED = "block_bed"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def council_amount(self) -> Decimal:
        return _pro_rata(self.council_weekly, self.days)

    @property
    def top_up_amount(self) -> Decimal:
        return _pro_rata(self.top_up_weekly, self.days)

    @property
    def gross_amount(self) -> Decimal:
        return self.council_amount + self.top_up_amount


@dataclass
class Totals:
    council: Decimal = ZERO
    top_up: Decimal = ZERO
    gross: Decimal = ZERO

    def add(self, line: ScheduleLine) -> None:
        self.council += line.council_amount
        self.top_up += line.top_up_amount
        self.gross += line.gross_amount


@dataclass
class Remittance:
    """What one commissioning body pays one provider for the period."""

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


def _placement_lines(period: Period, placements) -> list[ScheduleLine]:
    lines = []
    for placement in placements:
        window_start = max(period.start, placement.start_date)
        window_end = min(period.end, placement.end_date or period.end)
        history = fee_history(placement=placement)
        for index, fee in enumerate(history):
            fee_end = history[index + 1].effective_from - dt.timedelta(days=1) if index + 1 < len(history) else None
            start = max(window_start, fee.effective_from)
            end = min(window_end, fee_end) if fee_end else window_end
            if start > end:
                continue
            home = placement.care_home
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
                    weekly_fee=fee.weekly_fee,
                    council_weekly=fee.council_weekly_amount,
                    top_up_weekly=fee.top_up_weekly_amount,
                    top_up_payer=placement.top_up_payer if fee.top_up_weekly_amount else "",
                    placement_id=placement.pk,
                )
            )
    return lines


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
                        council_weekly=rate,
                        top_up_weekly=ZERO,
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
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=period.start))
        .exclude(source=Placement.Source.BLOCK_BED)
        .select_related("commissioner", "care_home__provider", "lot")
        .prefetch_related("fee_periods")
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
    if provider_id is not None:
        placements = placements.filter(care_home__provider_id=provider_id)
        contracts = contracts.filter(provider_id=provider_id)

    remittances: dict[tuple[int, int], Remittance] = {}
    for line in _placement_lines(period, placements) + _block_bed_lines(period, contracts):
        key = (line.commissioner.pk, line.provider.pk)
        remittances.setdefault(key, Remittance(line.commissioner, line.provider)).lines.append(line)

    schedule = PaymentSchedule(period)
    for remittance in sorted(remittances.values(), key=lambda r: (r.commissioner.name, r.provider.name)):
        remittance.lines.sort(key=lambda line: (line.care_home.name, line.kind, line.reference, line.start))
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
]


def csv_rows(schedule: PaymentSchedule):
    for line in schedule.lines:
        yield [
            schedule.period.start.isoformat(),
            schedule.period.end.isoformat(),
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
    if placement.start_date > period.end or (placement.end_date and placement.end_date < period.start):
        return []
    return _placement_lines(period, [placement])
