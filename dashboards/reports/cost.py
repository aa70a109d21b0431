"""Mean gross weekly cost of placements active in each month, by client group."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Least

from contracts.models import FeePeriod
from organisations.models import Organisation
from placements.models import Placement

from ..presentation import CostFormat
from .common import CLIENT_GROUPS, Report, last_day, money, months_between


@dataclass
class CostCell:
    placements: int
    fees: Decimal

    @property
    def mean(self) -> Decimal | None:
        return money(self.fees / self.placements) if self.placements else None


@dataclass
class MeanWeeklyCost(Report):
    month_from: date
    month_to: date
    months: list[date]
    groups: list[tuple[str, str]]
    # cells[month index][group index]; totals[month index] covers every client group.
    cells: list[list[CostCell]]
    totals: list[CostCell]

    format = CostFormat

    @property
    def rows(self) -> list[tuple[date, list[CostCell], CostCell]]:
        return list(zip(self.months, self.cells, self.totals, strict=True))


def _active_in(first: date, last: date) -> Q:
    return Q(start_date__lte=last) & (Q(end_date__isnull=True) | Q(end_date__gte=first))


def _fee_on_last_day_in(last: date):
    """The weekly fee in force on a placement's last day in the month (the month's last day, or
    the day the placement ended): from its fee history once it has one, else its agreed fee."""
    day = Least(Value(last), Coalesce(OuterRef("end_date"), Value(last)))
    in_force = (
        FeePeriod.objects.filter(placement_id=OuterRef("pk"), effective_from__lte=day)
        .order_by("-effective_from")
        .values("weekly_fee")[:1]
    )
    return Coalesce(Subquery(in_force), F("weekly_fee"))


def _monthly_aggregates(months: list[date]) -> dict:
    """A count and a fee total per month, each over the placements active in that month."""
    aggregates = {}
    for index, month in enumerate(months):
        active = _active_in(month, last_day(month))
        aggregates[f"n{index}"] = Count("id", filter=active)
        aggregates[f"fees{index}"] = Sum(_fee_on_last_day_in(last_day(month)), filter=active)
    return aggregates


def _grouped_by_client_group(commissioner: Organisation, month_from: date, month_to: date, months) -> dict:
    return {
        entry["lot__client_group"]: entry
        for entry in Placement.objects.live()
        .filter(commissioner=commissioner, weekly_fee__gt=0)
        .filter(_active_in(month_from, last_day(month_to)))
        .values("lot__client_group")
        .annotate(**_monthly_aggregates(months))
        .order_by()
    }


def mean_weekly_cost(*, commissioner: Organisation, month_from: date, month_to: date) -> MeanWeeklyCost:
    """Mean gross weekly fee of the placements active at any time in each month, each at the fee
    in force on its last day in that month, so uplifts and fee changes count from their date.

    One grouped query with a pair of filtered aggregates per month. Imported history without
    a known fee is stored with a zero fee and left out of the means.
    """
    months = months_between(month_from, month_to)
    grouped = _grouped_by_client_group(commissioner, month_from, month_to, months)
    groups = [(group.value, group.label) for group in CLIENT_GROUPS]
    cells, totals = [], []
    for index in range(len(months)):
        row = []
        for value, _ in groups:
            entry = grouped.get(value, {})
            row.append(CostCell(entry.get(f"n{index}", 0), Decimal(str(entry.get(f"fees{index}") or 0))))
        cells.append(row)
        totals.append(CostCell(sum(c.placements for c in row), sum((c.fees for c in row), Decimal(0))))
    return MeanWeeklyCost(month_from, month_to, months, groups, cells, totals)
