"""Market view: bid prices and awarded fees by lot and area against the guide fee.

Only tenders whose window has closed contribute, so no sealed amount is ever reported.
"""

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q

from bidding.models import Award, Bid
from lots.models import LotRules
from organisations.models import Organisation

from ..presentation import MarketFormat
from .common import CLOSED_TENDER_STATES, COUNTED_BID_STATES, Report, money, months_window


def quantile(ordered: list[Decimal], q: Decimal) -> Decimal | None:
    """Linear interpolation between closest ranks (the spreadsheet PERCENTILE.INC rule)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    fraction = position - lower
    return money(ordered[lower] + (ordered[upper] - ordered[lower]) * fraction)


@dataclass(frozen=True)
class Spread:
    count: int
    min: Decimal | None
    lower_quartile: Decimal | None
    median: Decimal | None
    upper_quartile: Decimal | None
    max: Decimal | None


@dataclass
class Distribution:
    values: list[Decimal] = field(default_factory=list)

    def spread(self) -> Spread:
        ordered = sorted(self.values)
        return Spread(
            count=len(ordered),
            min=money(ordered[0]) if ordered else None,
            lower_quartile=quantile(ordered, Decimal("0.25")),
            median=quantile(ordered, Decimal("0.5")),
            upper_quartile=quantile(ordered, Decimal("0.75")),
            max=money(ordered[-1]) if ordered else None,
        )

    def above(self, limit: Decimal | None) -> int:
        return 0 if limit is None else sum(1 for value in self.values if value > limit)


@dataclass
class MarketRow:
    lot: int
    area: str
    guide_fee: Decimal | None
    bids: Distribution
    awards: Distribution


@dataclass
class MarketView(Report):
    month_from: date
    month_to: date
    rows: list[MarketRow]

    format = MarketFormat


def _closed_in(commissioner: Organisation, month_from: date, month_to: date) -> Q:
    """Bids and awards (through their tender) of the body's tenders closed in the months."""
    start, end = months_window(month_from, month_to)
    return Q(
        tender__request__commissioner=commissioner,
        tender__status__in=CLOSED_TENDER_STATES,
        tender__closed_at__isnull=False,
        tender__closes_at__gte=start,
        tender__closes_at__lt=end,
    )


def market_view(*, commissioner: Organisation, month_from: date, month_to: date) -> MarketView:
    """Bid prices and awarded fees per lot and area (the bidding home's local authority)."""
    in_range = _closed_in(commissioner, month_from, month_to)
    bids = Bid.objects.filter(in_range, status__in=COUNTED_BID_STATES).values_list(
        "tender__request__lot__number", "care_home__local_authority", "weekly_fee"
    )
    awards = Award.objects.filter(in_range).values_list(
        "tender__request__lot__number", "bid__care_home__local_authority", "bid__weekly_fee"
    )
    guide = dict(LotRules.objects.filter(commissioner=commissioner).values_list("lot__number", "guide_weekly_fee"))
    by_key: dict[tuple[int, str], MarketRow] = {}

    def row(lot: int, area: str) -> MarketRow:
        if (lot, area) not in by_key:
            by_key[(lot, area)] = MarketRow(lot, area, guide.get(lot), Distribution(), Distribution())
        return by_key[(lot, area)]

    for lot, area, fee in bids.order_by():
        row(lot, area).bids.values.append(fee)
    for lot, area, fee in awards.order_by():
        row(lot, area).awards.values.append(fee)
    return MarketView(month_from, month_to, [by_key[key] for key in sorted(by_key)])
