"""Timeliness of sourcing (Table 2): placements sourced per month and lot, and how many by their target date."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from lots.models import Lot, Urgency
from organisations.models import Organisation
from placements.models import Placement

from ..models import TimelinessMonth
from ..presentation import TimelinessFormat
from .common import LONDON, Report, months_between, months_window, percent


@dataclass(frozen=True)
class TimelinessCell:
    sourced: int = 0
    within_target: int = 0

    @property
    def percent(self) -> Decimal | None:
        return percent(self.within_target, self.sourced)

    def below(self, target: Decimal) -> bool:
        return self.percent is not None and self.percent < target

    def plus(self, other: "TimelinessCell") -> "TimelinessCell":
        return TimelinessCell(self.sourced + other.sourced, self.within_target + other.within_target)


def _sum(cells) -> TimelinessCell:
    total = TimelinessCell()
    for cell in cells:
        total = total.plus(cell)
    return total


@dataclass
class TimelinessRow:
    month: date
    cells: list[TimelinessCell]
    total: TimelinessCell


@dataclass
class Timeliness(Report):
    month_from: date
    month_to: date
    target_percent: Decimal
    lots: list[Lot]
    rows: list[TimelinessRow]
    lot_totals: list[TimelinessCell]
    total: TimelinessCell
    urgency: str | None = None

    format = TimelinessFormat


def timeliness_live_counts(*, commissioner: Organisation, month_from: date, month_to: date, urgency: str | None = None):
    """Sourced and within-target counts per month and lot, aggregated from the placements; with
    `urgency`, only placements whose request had it (imported history, with no request, is planned)."""
    start, end = months_window(month_from, month_to)
    placements = Placement.objects.live().filter(commissioner=commissioner, sourced_at__gte=start, sourced_at__lt=end)
    if urgency is not None:
        placements = placements.annotate(urgency=Coalesce("request__urgency", Value(Urgency.PLANNED))).filter(
            urgency=urgency
        )
    return (
        placements.annotate(
            month=TruncMonth("sourced_at", tzinfo=LONDON),
            sourced_day=TruncDate("sourced_at", tzinfo=LONDON),
        )
        .values("month", "lot__number")
        .annotate(sourced=Count("id"), within_target=Count("id", filter=Q(sourced_day__lte=F("target_date"))))
        .order_by()
    )


def timeliness_summary_counts(*, commissioner: Organisation, month_from: date, month_to: date):
    """The same counts from the summary the database keeps (see `TimelinessMonth`)."""
    return (
        TimelinessMonth.objects.filter(
            commissioner=commissioner, month__gte=month_from, month__lte=month_to, sourced__gt=0
        )
        .values("month", "lot__number", "sourced", "within_target")
        .order_by()
    )


def _cells_by_month_and_lot(grouped) -> dict[tuple[date, int], TimelinessCell]:
    cells = {}
    for entry in grouped:
        month = entry["month"]
        month = month.astimezone(LONDON).date() if isinstance(month, datetime) else month
        cells[(month, entry["lot__number"])] = TimelinessCell(entry["sourced"], entry["within_target"])
    return cells


def _month_rows(months: list[date], lots: list[Lot], cells: dict) -> list[TimelinessRow]:
    rows = []
    for month in months:
        row = [cells.get((month, lot.number), TimelinessCell()) for lot in lots]
        rows.append(TimelinessRow(month=month, cells=row, total=_sum(row)))
    return rows


def timeliness(
    *, commissioner: Organisation, month_from: date, month_to: date, urgency: str | None = None
) -> Timeliness:
    """Placements sourced per month (Europe/London) and lot, and how many by their target date.

    All requests read the summary the database keeps; one urgency is counted from the placements."""
    lots = list(Lot.objects.order_by("number"))
    if urgency is None:
        grouped = timeliness_summary_counts(commissioner=commissioner, month_from=month_from, month_to=month_to)
    else:
        grouped = timeliness_live_counts(
            commissioner=commissioner, month_from=month_from, month_to=month_to, urgency=urgency
        )
    rows = _month_rows(months_between(month_from, month_to), lots, _cells_by_month_and_lot(grouped))
    lot_totals = [_sum(row.cells[index] for row in rows) for index in range(len(lots))]
    return Timeliness(
        month_from=month_from,
        month_to=month_to,
        target_percent=commissioner.timeliness_target_percent,
        lots=lots,
        rows=rows,
        lot_totals=lot_totals,
        total=_sum(lot_totals),
        urgency=urgency,
    )
